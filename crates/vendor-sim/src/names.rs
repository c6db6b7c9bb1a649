//! The words the generator builds a believable Dutch and Belgian customer
//! base from.

pub const TRADES: [&str; 24] = [
    "Bakkerij",
    "Transportbedrijf",
    "Installatiebedrijf",
    "Advocatenkantoor",
    "Tandartspraktijk",
    "Brouwerij",
    "Drukkerij",
    "Autobedrijf",
    "Makelaardij",
    "Accountantskantoor",
    "Bouwbedrijf",
    "Kinderopvang",
    "Hoveniersbedrijf",
    "Fysiotherapie",
    "Architectenbureau",
    "Notariskantoor",
    "Schildersbedrijf",
    "Loodgietersbedrijf",
    "Dierenkliniek",
    "Reisbureau",
    "Vastgoedbeheer",
    "Groothandel",
    "Metaalbewerking",
    "Adviesbureau",
];

pub const SURNAMES: [&str; 30] = [
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Vermeulen",
    "Van Damme",
];

pub const FIRST_NAMES: [&str; 16] = [
    "Anke", "Bram", "Daan", "Eva", "Femke", "Joris", "Lotte", "Maarten", "Noor", "Pieter", "Sanne", "Sven",
    "Tess", "Wout", "Lies", "Jef",
];

/// A town and its postal code, per country.
pub const DUTCH_TOWNS: [(&str, &str); 12] = [
    ("Amsterdam", "1012 AB"),
    ("Rotterdam", "3011 AD"),
    ("Utrecht", "3511 ED"),
    ("Den Haag", "2511 CV"),
    ("Eindhoven", "5611 AZ"),
    ("Groningen", "9711 LM"),
    ("Zwolle", "8011 AB"),
    ("Arnhem", "6811 CG"),
    ("Breda", "4811 XJ"),
    ("Leeuwarden", "8911 BK"),
    ("Maastricht", "6211 LE"),
    ("Amersfoort", "3811 GH"),
];

pub const BELGIAN_TOWNS: [(&str, &str); 8] = [
    ("Antwerpen", "2000"),
    ("Gent", "9000"),
    ("Brugge", "8000"),
    ("Leuven", "3000"),
    ("Hasselt", "3500"),
    ("Mechelen", "2800"),
    ("Kortrijk", "8500"),
    ("Aalst", "9300"),
];

pub const STREETS: [&str; 10] = [
    "Stationsplein",
    "Kerkstraat",
    "Industrieweg",
    "Marktplein",
    "Dorpsstraat",
    "Nijverheidsstraat",
    "Havenweg",
    "Molenlaan",
    "Schoolstraat",
    "Beukenlaan",
];

pub const COST_CENTRES: [&str; 5] = ["IT", "Finance", "Operations", "Sales", "HR"];
