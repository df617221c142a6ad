//! A bar chart of a series of periods, drawn as SVG on the server (no script needed to read it). Its
//! figures are also in a table that screen readers and tests can read.

use leptos::prelude::*;

/// One period's figures: its label and the two series' values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub label: String,
    pub first: i64,
    pub second: i64,
}

/// Two series side by side per period (`first` in the brand colour, `second` in slate).
#[component]
pub fn BarChart(
    #[prop(into)] title: String,
    #[prop(into)] first: String,
    #[prop(into)] second: String,
    points: Vec<Point>,
) -> impl IntoView {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    let max = points.iter().map(|p| p.first.max(p.second)).max().unwrap_or(0).max(1) as f64;
    let slot = W / points.len().max(1) as f64;
    let bar = (slot / 2.0 - 2.0).max(1.0);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = i as f64 * slot + 1.0;
            let h1 = p.first as f64 / max * (H - 20.0);
            let h2 = p.second as f64 / max * (H - 20.0);
            view! {
                <rect x=format!("{x:.1}") y=format!("{:.1}", H - h1) width=format!("{bar:.1}") height=format!("{h1:.1}") class="fill-brand"/>
                <rect x=format!("{:.1}", x + bar + 1.0) y=format!("{:.1}", H - h2) width=format!("{bar:.1}") height=format!("{h2:.1}") class="fill-slate-400"/>
            }
        })
        .collect_view();
    let caption = format!("{title}: {first} and {second} per period");
    view! {
        <figure>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=caption.clone() class="h-44 w-full">
                <line x1="0" y1=format!("{H}") x2=format!("{W}") y2=format!("{H}") class="stroke-slate-300"/>
                {bars}
            </svg>
            <figcaption class="mt-2 flex gap-4 text-xs text-slate-700">
                <span class="flex items-center gap-1"><span class="inline-block h-2 w-3 rounded-sm bg-brand"></span>{first.clone()}</span>
                <span class="flex items-center gap-1"><span class="inline-block h-2 w-3 rounded-sm bg-slate-400"></span>{second.clone()}</span>
            </figcaption>
            <details class="mt-2 text-xs text-slate-700">
                <summary class="cursor-pointer">"Show the figures"</summary>
                <table class="mt-2 min-w-full text-left">
                    <thead><tr><th scope="col" class="pr-4">"Period"</th><th scope="col" class="pr-4">{first}</th><th scope="col">{second}</th></tr></thead>
                    <tbody>
                        {points.into_iter().map(|p| view! {
                            <tr><td class="pr-4">{p.label}</td><td class="pr-4">{p.first}</td><td>{p.second}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
