//! The platform admin's list of projects.

use leptos::prelude::*;

use crate::server_fns::{list_projects, ProjectSummary};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects());
    view! {
        <main class="page">
            <header class="bar">
                <h1>"Projects"</h1>
                <a href="/">"Switch account"</a>
            </header>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || projects.get().map(|r| match r {
                    Ok(list) => view! { <ProjectTable projects=list/> }.into_any(),
                    Err(e) => view! {
                        <p class="error">{crate::server_fns::message(&e)} " " <a href="/">"Sign in"</a></p>
                    }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn ProjectTable(projects: Vec<ProjectSummary>) -> impl IntoView {
    if projects.is_empty() {
        return view! { <p class="muted">"No projects yet."</p> }.into_any();
    }
    view! {
        <table class="list">
            <thead><tr><th>"Name"</th><th>"Slug"</th><th>"Status"</th><th>"Plan"</th><th>"Created"</th></tr></thead>
            <tbody>
                {projects.into_iter().map(|p| view! {
                    <tr>
                        <td>{p.name}</td>
                        <td><code>{p.slug}</code></td>
                        <td><span class=format!("status status-{}", p.status)>{p.status.clone()}</span></td>
                        <td>{p.plan}</td>
                        <td>{p.created_at}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
