//! Sounds: upload (a plain multipart form, so it works before the page's script runs; the result
//! comes back in the query), the list with a player for each, and delete behind a confirmation.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    problem_of, Badge, Card, Confirm, DataTable, EmptyState, Field, PageHeader, ProblemNote, Submit, Success, DANGER,
    INPUT,
};
use crate::server_fns::sounds::{list_sounds, DeleteSound, SoundView, UPLOAD_PATH};
use crate::server_fns::Problem;

#[component]
pub fn SoundsPage() -> impl IntoView {
    let delete = ServerAction::<DeleteSound>::new();
    // Read again after each delete that worked; a refused one leaves the row and its open
    // question in place, so the admin can tick "force" and confirm again.
    let deleted = Memo::new(move |n: Option<&usize>| {
        let n = n.copied().unwrap_or(0);
        if matches!(delete.value().get(), Some(Ok(()))) {
            n + 1
        } else {
            n
        }
    });
    let sounds = Resource::new(move || deleted.get(), |_| list_sounds());
    let query = use_query_map();
    let uploaded = Signal::derive(move || query.read().get("uploaded").map(|n| format!("Sound {n} uploaded.")));
    let refused =
        Signal::derive(move || query.read().get("error").map(|message| Problem { message, ..Default::default() }));
    let delete_problem = problem_of(delete.value());
    view! {
        <Title text="Sounds"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Sounds" subtitle="The sounds your rules play. Apps bundle them under their file name; browsers play them from their URL."/>
                    <div class="space-y-6">
                        <Card title="Upload a sound">
                            <form method="post" action=UPLOAD_PATH enctype="multipart/form-data" class="grid gap-4 md:grid-cols-2">
                                <Field label="Name" name="name" placeholder="cash_register"
                                    hint="a-z, 0-9 and _. Left empty: the file's name."/>
                                <div>
                                    <label for="field-file" class="block text-sm font-medium text-slate-800">"Sound file"</label>
                                    <input id="field-file" name="file" type="file" required=true
                                        accept="audio/*,.wav,.mp3,.ogg,.aiff,.aif,.caf" aria-describedby="field-file-hint"
                                        class=format!("{INPUT} file:mr-3 file:rounded file:border-0 file:bg-slate-100 file:px-3 file:py-1")/>
                                    <p id="field-file-hint" class="mt-1 text-xs text-slate-600">
                                        "wav, mp3, ogg, aiff or caf; at most 1 MiB and 30 seconds."
                                    </p>
                                </div>
                                <div class="md:col-span-2 space-y-3">
                                    <ProblemNote problem=refused/>
                                    <Success text=uploaded/>
                                    <Submit label="Upload sound"/>
                                </div>
                            </form>
                        </Card>
                        <Card title="Sounds">
                            <div class="mb-3"><ProblemNote problem=delete_problem/></div>
                            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                                {move || sounds.get().map(|r| match r {
                                    Ok(list) => view! { <SoundTable sounds=list delete/> }.into_any(),
                                    Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                                })}
                            </Suspense>
                        </Card>
                    </div>
                }
            }
        </ClientShell>
    }
}

#[component]
fn SoundTable(sounds: Vec<SoundView>, delete: ServerAction<DeleteSound>) -> impl IntoView {
    if sounds.is_empty() {
        return view! { <EmptyState text="No sounds yet. Upload one, then name it in a rule."/> }.into_any();
    }
    view! {
        <DataTable headers=&["Name", "Format", "Length", "Size", "Listen", ""]>
            {sounds.into_iter().map(|s| {
                let id = StoredValue::new(s.id.clone());
                let name = s.name.clone();
                view! {
                    <tr>
                        <td class="px-4 py-2">
                            <span class="font-medium text-slate-900">{s.name.clone()}</span>
                            <code class="ml-2 text-xs text-slate-600">{s.file_name.clone()}</code>
                        </td>
                        <td class="px-4 py-2"><Badge text=s.format.clone()/></td>
                        <td class="px-4 py-2 text-slate-700">{seconds(s.duration_ms)}</td>
                        <td class="whitespace-nowrap px-4 py-2 text-slate-700">{size(s.size_bytes)}</td>
                        <td class="px-4 py-2">
                            <audio controls preload="none" src=s.url.clone() aria-label=format!("Play {}", s.name) class="h-8 w-56"></audio>
                        </td>
                        <td class="px-4 py-2 text-right">
                            <Confirm label=format!("Delete {name}") question=format!("Delete {name}? Apps that bundled it keep their copy.")>
                                <ActionForm action=delete attr:class="inline-flex items-center gap-2">
                                    <input type="hidden" name="id" value=id.get_value()/>
                                    <label class="flex items-center gap-1 text-sm text-red-900">
                                        <input type="checkbox" name="force" value="on" class="h-4 w-4"/>"Also take it off the rules that play it"
                                    </label>
                                    <button type="submit" class=DANGER>"Confirm delete"</button>
                                </ActionForm>
                            </Confirm>
                        </td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// `1250` ms as `1.3 s`.
fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// Bytes as `812 B`, `4.9 KiB` or `1.0 MiB`.
fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}
