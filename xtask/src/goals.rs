//! The bench's figures beside their goals: each part records what it
//! measured, and the run ends with one table of every figure, its goal and
//! its ratio to the goal (1 or more meets it, whichever way the goal points).

use std::path::Path;

use anyhow::Context;

/// A frame on time: one refresh at 60 Hz (16.67 ms) as the page's clock
/// reads it, in 0.1 ms steps (16.6 to 16.8 ms; a late frame is 33.3 or
/// more). The same bound as `ONE_FRAME` in `tests/measure.rs`.
const ONE_FRAME_MS: f64 = 16.8;

/// Which way a goal points.
#[derive(Clone, Copy)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

struct Figure {
    name: String,
    measured: f64,
    unit: &'static str,
    goal: Goal,
}

#[derive(Default)]
pub struct Goals {
    figures: Vec<Figure>,
}

impl Goals {
    pub fn record(&mut self, name: impl Into<String>, measured: f64, unit: &'static str, goal: Goal) {
        self.figures.push(Figure { name: name.into(), measured, unit, goal });
    }

    /// Records the browser's phases as `tests/measure.rs` wrote them, one
    /// JSON object a line: each phase's longest main-thread task and frame.
    pub fn record_browser_phases(&mut self, file: &Path) -> anyhow::Result<()> {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        for line in text.lines() {
            let phase: serde_json::Value = serde_json::from_str(line)?;
            let name = phase["name"].as_str().context("a phase without a name")?;
            let number = |key: &str| phase[key].as_f64().with_context(|| format!("{name}: no {key}"));
            self.record(format!("longest task: {name}"), number("longestTask")?, "ms", Goal::AtMost(50.0));
            self.record(
                format!("longest frame: {name}"),
                number("longestFrame")?,
                "ms",
                Goal::AtMost(ONE_FRAME_MS),
            );
        }
        Ok(())
    }

    pub fn print(&self) {
        println!("\nevery figure beside its goal (ratio 1 or more meets it)");
        println!("{:<58} {:>14} {:>14} {:>7}  ", "figure", "measured", "goal", "ratio");
        let mut met = 0;
        for figure in &self.figures {
            let (goal, ratio) = match figure.goal {
                Goal::AtMost(limit) => (format!("≤ {}", amount(limit)), limit / figure.measured),
                Goal::AtLeast(floor) => (format!("≥ {}", amount(floor)), figure.measured / floor),
            };
            let verdict = if ratio >= 1.0 { "met" } else { "NOT MET" };
            met += usize::from(ratio >= 1.0);
            // Rounded down, so a goal just missed never shows as 1.00; a
            // ceiling over nothing measured (no task long enough to be
            // reported) is met by any margin.
            let ratio = if ratio.is_finite() {
                format!("{:.2}", (ratio * 100.0).floor() / 100.0)
            } else {
                "any".to_owned()
            };
            println!(
                "{:<58} {:>14} {:>14} {ratio:>7}  {verdict}",
                figure.name,
                format!("{} {}", amount(figure.measured), figure.unit),
                format!("{goal} {}", figure.unit),
            );
        }
        println!("{met} of {} goals met", self.figures.len());
    }
}

/// A figure as a person reads it: whole when large, else to two places.
fn amount(value: f64) -> String {
    if value.abs() >= 1000.0 { format!("{value:.0}") } else { format!("{value:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_phases_become_a_task_and_a_frame_figure_each() {
        let file = std::env::temp_dir().join(format!("goals-test-{}.jsonl", std::process::id()));
        std::fs::write(
            &file,
            "{\"name\":\"typing\",\"longestTask\":12.0,\"longestFrame\":33.4}\n{\"name\":\"grouping\",\"longestTask\":61,\"longestFrame\":8}\n",
        )
        .unwrap();
        let mut goals = Goals::default();
        goals.record_browser_phases(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        let figures: Vec<_> =
            goals.figures.iter().map(|figure| (figure.name.as_str(), figure.measured)).collect();
        assert_eq!(
            figures,
            [
                ("longest task: typing", 12.0),
                ("longest frame: typing", 33.4),
                ("longest task: grouping", 61.0),
                ("longest frame: grouping", 8.0)
            ]
        );
        std::fs::write(&file, "{\"name\":\"typing\"}\n").unwrap();
        assert!(
            Goals::default().record_browser_phases(&file).is_err(),
            "a phase without figures is an error"
        );
        std::fs::remove_file(&file).unwrap();
    }
}
