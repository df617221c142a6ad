//! Rules: the list, and the editor (new or existing) with a visual condition builder that writes
//! CEL, the CEL itself checked by the server as you type, the templates, and a test against a
//! sample event.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    field_error, problem_of, Badge, Card, Confirm, DataTable, EmptyState, Field, PageHeader, ProblemNote, Submit,
    BUTTON, DANGER, INPUT, INPUT_INLINE, LINK, SECONDARY,
};
use crate::pages::keys::short_time;
use crate::server_fns::rules::{check_rule, get_rule, list_rules, DeleteRule, RuleView, SaveRule, TestRule};
use crate::server_fns::sounds::list_sounds;

#[component]
pub fn RulesPage() -> impl IntoView {
    let rules = Resource::new(|| (), |_| list_rules());
    view! {
        <Title text="Rules"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Rules" subtitle="Which events notify whom, and what the notification says.">
                        <a href="/rules/new" class=BUTTON>"New rule"</a>
                    </PageHeader>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || rules.get().map(|r| match r {
                            Ok(list) if list.is_empty() => view! { <EmptyState text="No rules yet: events are stored but notify no one."/> }.into_any(),
                            Ok(list) => view! { <RuleTable rules=list/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn RuleTable(rules: Vec<RuleView>) -> impl IntoView {
    view! {
        <DataTable headers=&["Name", "Condition", "Roles", "Priority", "State", "Updated"]>
                    {rules.into_iter().map(|r| view! {
                        <tr>
                            <td class="px-4 py-2"><a href=format!("/rules/{}", r.id) class=LINK>{r.name}</a></td>
                            <td class="px-4 py-2"><code class="text-slate-800">{r.condition}</code></td>
                            <td class="px-4 py-2 text-slate-700">{r.target_roles.join(", ")}</td>
                            <td class="px-4 py-2 text-slate-700">{r.priority}</td>
                            <td class="px-4 py-2"><Badge text=if r.active { "active" } else { "paused" }/></td>
                            <td class="px-4 py-2 text-slate-700">{short_time(&r.updated_at)}</td>
                        </tr>
                    }).collect_view()}
                </DataTable>
    }
}

#[component]
pub fn RuleEditorPage() -> impl IntoView {
    let id = move || use_params_map().read().get("id");
    let rule = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_rule(id).await.map(Some),
            None => Ok(None),
        }
    });
    // The names the sound picker offers.
    let sounds = Resource::new(
        || (),
        |_| async move {
            list_sounds().await.map(|list| list.into_iter().map(|s| s.name).collect::<Vec<_>>()).unwrap_or_default()
        },
    );
    view! {
        <ClientShell>
            {
                view! {
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || rule.get().map(|r| match r {
                            Ok(rule) => view! { <RuleEditor rule sounds/> }.into_any(),
                            Err(e) => view! {
                                <Title text="Not found"/>
                                <PageHeader title="Not found"/>
                                <p role="alert" class="text-slate-800">{crate::server_fns::message(&e)} " " <a href="/rules" class=LINK>"Back to the rules"</a></p>
                            }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn RuleEditor(rule: Option<RuleView>, sounds: Resource<Vec<String>>) -> impl IntoView {
    let is_new = rule.is_none();
    let r = rule.unwrap_or(RuleView { active: true, target_roles: vec!["admin".into()], ..Default::default() });
    let save = ServerAction::<SaveRule>::new();
    let problem = problem_of(save.value());
    let condition = RwSignal::new(if is_new { "type == \"order.created\"".to_string() } else { r.condition.clone() });
    let title = RwSignal::new(if is_new { "New order {{ payload.orderId }}".to_string() } else { r.title.clone() });
    let message = RwSignal::new(r.message.clone());
    // The server's verdict on the texts, asked again whenever they change.
    // The server's verdict on the texts, asked again whenever they change. A local resource: it
    // runs in the browser only, so the editor hydrates the same whatever the timing.
    let verdict = LocalResource::new(move || check_rule(condition.get(), title.get(), message.get()));
    let heading = if is_new { "New rule".to_string() } else { r.name.clone() };
    let id = r.id.clone();
    view! {
        <Title text=heading.clone()/>
        <PageHeader title=heading subtitle="Rules run on every event the project receives, highest priority first."/>
        <div class="space-y-6">
            <Card title="Rule">
                <ActionForm action=save attr:class="space-y-4">
                    <input type="hidden" name="id" value=r.id.clone()/>
                    <Field label="Name" name="name" value=r.name.clone() required=true error=field_error(problem, "name")/>
                    <ConditionBuilder condition/>
                    <div>
                        <label for="field-condition" class="block text-sm font-medium text-slate-800">"Condition (CEL)"</label>
                        <textarea id="field-condition" name="condition" rows="3" class=format!("{INPUT} font-mono")
                            aria-describedby="condition-check"
                            prop:value=move || condition.get() on:input=move |ev| condition.set(event_target_value(&ev))>
                            {condition.get_untracked()}
                        </textarea>
                        <p id="condition-check" aria-live="polite" class="mt-1 text-sm">
                            <Transition fallback=|| ()>
                                {move || verdict.get().map(|v| match v {
                                    Ok(None) => view! { <span class="text-emerald-800">"The condition and templates compile."</span> }.into_any(),
                                    Ok(Some(p)) => view! { <span class="text-red-800">{p}</span> }.into_any(),
                                    Err(e) => view! { <span class="text-red-800">{crate::server_fns::message(&e)}</span> }.into_any(),
                                })}
                            </Transition>
                        </p>
                        {move || field_error(problem, "condition").get().map(|e| view! { <p class="mt-1 text-sm text-red-700">{e}</p> })}
                    </div>
                    <div class="grid gap-4 md:grid-cols-2">
                        <div>
                            <label for="field-title" class="block text-sm font-medium text-slate-800">"Title template"</label>
                            <input id="field-title" name="title" class=INPUT prop:value=move || title.get()
                                value=title.get_untracked() on:input=move |ev| title.set(event_target_value(&ev))/>
                            {move || field_error(problem, "title").get().map(|e| view! { <p class="mt-1 text-sm text-red-700">{e}</p> })}
                        </div>
                        <Field label="Target roles" name="target_roles" value=r.target_roles.join(", ")
                            hint="Comma-separated role names." error=field_error(problem, "targetRoles")/>
                    </div>
                    <div>
                        <label for="field-message" class="block text-sm font-medium text-slate-800">"Message template"</label>
                        <textarea id="field-message" name="message" rows="2" class=INPUT
                            prop:value=move || message.get() on:input=move |ev| message.set(event_target_value(&ev))>
                            {message.get_untracked()}
                        </textarea>
                    </div>
                    <div class="flex flex-wrap items-end gap-6">
                        <div class="w-32"><Field label="Priority" name="priority" kind="number" value=r.priority.to_string() error=field_error(problem, "priority")/></div>
                        <SoundPicker current=r.sound.clone() sounds error=field_error(problem, "sound")/>
                        <label class="flex items-center gap-2 text-sm text-slate-800">
                            <input type="checkbox" name="active" value="on" checked=r.active class="h-4 w-4"/>"Active"
                        </label>
                    </div>
                    <ProblemNote problem/>
                    <Submit label=if is_new { "Create rule" } else { "Save rule" } pending=save.pending()/>
                </ActionForm>
            </Card>
            {(!is_new).then(|| view! { <RuleTest id=id.clone()/> <DeleteRuleCard id=id.clone()/> })}
        </div>
    }
}

/// The rule's sound: none, or one of the project's sounds (uploaded on the sounds page).
#[component]
fn SoundPicker(current: Option<String>, sounds: Resource<Vec<String>>, error: Signal<Option<String>>) -> impl IntoView {
    let current = StoredValue::new(current.unwrap_or_default());
    view! {
        <div>
            <label for="field-sound" class="block text-sm font-medium text-slate-800">"Sound"</label>
            <Suspense fallback=|| view! {
                <select id="field-sound" disabled=true class=format!("{INPUT_INLINE} mt-1 w-56")><option>"Loading…"</option></select>
            }>
                {move || sounds.get().map(|mut names| {
                    // A rule keeps showing its sound if it is gone from the list.
                    let current = current.get_value();
                    if !current.is_empty() && !names.contains(&current) {
                        names.push(current.clone());
                    }
                    view! {
                        <select id="field-sound" name="sound" class=format!("{INPUT_INLINE} mt-1 w-56")>
                            <option value="" selected=current.is_empty()>"No sound"</option>
                            {names.into_iter().map(|n| {
                                let selected = n == current;
                                let label = n.clone();
                                view! { <option value=n selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    }
                })}
            </Suspense>
            {move || error.get().map(|e| view! { <p class="mt-1 text-sm text-red-700">{e}</p> })}
        </div>
    }
}

/// Field / operator / value rows joined by AND or OR, written into the CEL condition.
#[component]
fn ConditionBuilder(condition: RwSignal<String>) -> impl IntoView {
    let rows = RwSignal::new(vec![(1usize, "type".to_string(), "==".to_string(), "order.created".to_string())]);
    let join = RwSignal::new("&&".to_string());
    let next_id = RwSignal::new(2usize);
    let write = move |_| {
        let parts: Vec<String> = rows.get().iter().map(|(_, f, op, v)| cel_comparison(f, op, v)).collect();
        condition.set(parts.join(&format!(" {} ", join.get())));
    };
    view! {
        <fieldset class="rounded-md border border-slate-200 p-3">
            <legend class="px-1 text-sm font-medium text-slate-800">"Condition builder"</legend>
            <div class="space-y-2">
                <For each=move || rows.get() key=|r| r.0 let:row>
                    {
                        let id = row.0;
                        let update = move |which: usize, value: String| rows.update(|rs| {
                            if let Some(r) = rs.iter_mut().find(|r| r.0 == id) {
                                match which { 0 => r.1 = value, 1 => r.2 = value, _ => r.3 = value }
                            }
                        });
                        view! {
                            <div class="flex flex-wrap items-center gap-2">
                                <input aria-label="Field" class=format!("{INPUT_INLINE} w-48") value=row.1.clone()
                                    on:input=move |ev| update(0, event_target_value(&ev))/>
                                <select aria-label="Operator" class=format!("{INPUT_INLINE} w-40") on:change=move |ev| update(1, event_target_value(&ev))>
                                    {OPERATORS.iter().map(|(op, label)| view! { <option value=*op selected=*op == row.2>{*label}</option> }).collect_view()}
                                </select>
                                <input aria-label="Value" class=format!("{INPUT_INLINE} w-48") value=row.3.clone()
                                    on:input=move |ev| update(2, event_target_value(&ev))/>
                                <button type="button" class=SECONDARY on:click=move |_| rows.update(|rs| rs.retain(|r| r.0 != id))>"Remove"</button>
                            </div>
                        }
                    }
                </For>
            </div>
            <div class="mt-3 flex flex-wrap items-center gap-2">
                <button type="button" class=SECONDARY on:click=move |_| {
                    let id = next_id.get();
                    next_id.set(id + 1);
                    rows.update(|rs| rs.push((id, "payload.".into(), "==".into(), String::new())));
                }>"Add condition"</button>
                <label class="flex items-center gap-2 whitespace-nowrap text-sm text-slate-800">"Join with"
                    <select class=format!("{INPUT_INLINE} w-24") on:change=move |ev| join.set(event_target_value(&ev))>
                        <option value="&&">"AND"</option>
                        <option value="||">"OR"</option>
                    </select>
                </label>
                <button type="button" class=SECONDARY on:click=write>"Use these conditions"</button>
            </div>
        </fieldset>
    }
}

const OPERATORS: [(&str, &str); 6] = [
    ("==", "equals"),
    ("!=", "differs from"),
    (">", "greater than"),
    ("<", "less than"),
    ("contains", "contains"),
    ("in", "is one of"),
];

/// One builder row as CEL: numbers and booleans bare, anything else quoted.
pub fn cel_comparison(field: &str, op: &str, value: &str) -> String {
    let field = field.trim();
    let literal = |v: &str| {
        let v = v.trim();
        if v.parse::<f64>().is_ok() || v == "true" || v == "false" || v == "null" {
            v.to_string()
        } else {
            format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
        }
    };
    match op {
        "contains" => format!("{field}.contains({})", literal(value)),
        "in" => format!("{field} in [{}]", value.split(',').map(literal).collect::<Vec<_>>().join(", ")),
        op => format!("{field} {op} {}", literal(value)),
    }
}

#[component]
fn RuleTest(id: String) -> impl IntoView {
    let test = ServerAction::<TestRule>::new();
    let problem = problem_of(test.value());
    view! {
        <Card title="Test against a sample event">
            <ActionForm action=test attr:class="space-y-4">
                <input type="hidden" name="id" value=id/>
                <Field label="Event type" name="event_type" value="order.created" required=true error=field_error(problem, "type")/>
                <div>
                    <label for="field-payload" class="block text-sm font-medium text-slate-800">"Payload (JSON)"</label>
                    <textarea id="field-payload" name="payload" rows="3" class=format!("{INPUT} font-mono")>"{\"orderId\": 42}"</textarea>
                    {move || field_error(problem, "payload").get().map(|e| view! { <p class="mt-1 text-sm text-red-700">{e}</p> })}
                </div>
                <ProblemNote problem/>
                <Submit label="Run test" pending=test.pending()/>
            </ActionForm>
            <div role="status" aria-live="polite" class="mt-4">
                {move || test.value().get().and_then(|r| r.ok()).map(|t| view! {
                    <dl class="grid grid-cols-[8rem_1fr] gap-y-1 text-sm">
                        <dt class="text-slate-600">"Matched"</dt><dd class="font-medium text-slate-900">{if t.matched { "yes" } else { "no" }}</dd>
                        <dt class="text-slate-600">"Title"</dt><dd class="text-slate-900">{t.title.unwrap_or_default()}</dd>
                        <dt class="text-slate-600">"Message"</dt><dd class="text-slate-900">{t.message.unwrap_or_default()}</dd>
                        <dt class="text-slate-600">"Recipients"</dt><dd class="text-slate-900">{if t.recipients.is_empty() { "none".to_string() } else { t.recipients.join(", ") }}</dd>
                        {t.error.map(|e| view! { <dt class="text-slate-600">"Error"</dt><dd class="text-red-800">{e}</dd> })}
                    </dl>
                })}
            </div>
        </Card>
    }
}

#[component]
fn DeleteRuleCard(id: String) -> impl IntoView {
    let delete = ServerAction::<DeleteRule>::new();
    let problem = problem_of(delete.value());
    let id = StoredValue::new(id);
    view! {
        <Card title="Delete">
            <Confirm label="Delete rule" question="Delete this rule? Events will no longer match it.">
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.get_value()/>
                    <button type="submit" class=DANGER>"Confirm delete"</button>
                </ActionForm>
            </Confirm>
            <div class="mt-3"><ProblemNote problem/></div>
        </Card>
    }
}

#[cfg(test)]
mod tests {
    use super::cel_comparison;

    #[test]
    fn builder_rows_become_cel() {
        assert_eq!(cel_comparison("type", "==", "order.created"), "type == \"order.created\"");
        assert_eq!(cel_comparison("payload.total", ">", "100"), "payload.total > 100");
        assert_eq!(cel_comparison("payload.tier", "in", "gold, silver"), "payload.tier in [\"gold\", \"silver\"]");
        assert_eq!(
            cel_comparison("payload.note", "contains", "say \"hi\""),
            "payload.note.contains(\"say \\\"hi\\\"\")"
        );
    }
}
