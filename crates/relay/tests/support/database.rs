//! Where a test relay keeps its records: the embedded SQLite file, or a
//! throwaway PostgreSQL server; and the macro that runs a test on both.

use relay::RelayConfig;

use super::postgres::PostgresServer;

/// Where the records go: the embedded SQLite file, or a PostgreSQL server.
pub struct Database {
    pub server: Option<PostgresServer>,
    pub url: Option<String>,
}

impl Database {
    pub async fn sqlite() -> Self {
        Self { server: None, url: None }
    }

    pub async fn postgres() -> Self {
        let server = PostgresServer::start().await;
        let url = server.database("archive").await;
        Self { server: Some(server), url: Some(url) }
    }

    pub fn configure(&self, config: &mut RelayConfig) {
        config.archive.database_url = self.url.clone().map(Into::into);
    }
}

/// Runs each test named once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        $(mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::support::database::Database::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$test($crate::support::database::Database::postgres().await).await;
            }
        })*
    };
}
