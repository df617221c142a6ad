//! The components every page is built from (docs/PANELS.md "Components"): the layouts with their
//! navigation, page header, table with an empty state, form field with label and error, buttons,
//! badge, notice, the "shown once" secret box, and the chart.

pub mod chart;
pub mod color;
pub mod layout;
pub mod ui;
