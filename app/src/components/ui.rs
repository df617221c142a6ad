//! Small building blocks: page header, form field, buttons, badge, notices, empty state and the
//! "shown once" secret box. Every field has a visible label and every action is a button or link
//! with text, so people and tests find them by role and name (docs/PANELS.md "Accessibility").

use leptos::prelude::*;

use crate::server_fns::Problem;

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-sm text-slate-600">{s}</p> })}
            </div>
            {children.map(|c| view! { <div class="flex gap-2">{c()}</div> })}
        </header>
    }
}

/// A white panel around a part of a page, with an optional heading.
#[component]
pub fn Card(#[prop(optional, into)] title: Option<String>, children: Children) -> impl IntoView {
    // The heading names the region, so a card is found by its title.
    let id = title.as_ref().map(|t| format!("card-{}", t.to_lowercase().replace(|c: char| !c.is_alphanumeric(), "-")));
    let labelled_by = id.clone();
    view! {
        <section aria-labelledby=labelled_by class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            {title.map(move |t| view! { <h2 id=id.clone() class="mb-4 text-base font-semibold text-slate-900">{t}</h2> })}
            {children()}
        </section>
    }
}

pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm \
    text-slate-900 shadow-sm focus:border-brand focus:outline-none focus:ring-2 focus:ring-brand/40";
/// [`INPUT`] for controls that sit in a row: no width of its own, no top margin.
pub const INPUT_INLINE: &str = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 \
    shadow-sm focus:border-brand focus:outline-none focus:ring-2 focus:ring-brand/40";
pub const BUTTON: &str = "inline-flex items-center justify-center rounded-md bg-brand px-4 py-2 text-sm \
    font-semibold text-brand-contrast shadow-sm hover:opacity-90 focus:outline-none focus:ring-2 \
    focus:ring-brand/50 focus:ring-offset-2 disabled:cursor-progress disabled:opacity-60";
pub const SECONDARY: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 \
    bg-white px-3 py-1.5 text-sm font-medium text-slate-800 shadow-sm hover:bg-slate-50 focus:outline-none \
    focus:ring-2 focus:ring-brand/50";
pub const DANGER: &str =
    "inline-flex items-center justify-center whitespace-nowrap rounded-md border border-red-300 bg-white \
    px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50 focus:outline-none focus:ring-2 \
    focus:ring-red-400";
pub const LINK: &str = "font-medium text-slate-900 underline decoration-brand decoration-2 underline-offset-2 \
    hover:text-brand";

/// A labelled input; `error` is the server's message for this field, shown under it.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(optional, into)] kind: Option<String>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional, into)] placeholder: Option<String>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] autocomplete: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional, into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        let has_hint = hint.is_some();
        move || {
            let mut ids = vec![];
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-800">{label}</label>
            <input
                id=id
                name=name
                type=kind.unwrap_or_else(|| "text".into())
                value=value
                placeholder=placeholder
                autocomplete=autocomplete
                required=required
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
                class=INPUT
            />
            {hint.map(|h| view! { <p id=hint_id class="mt-1 text-xs text-slate-600">{h}</p> })}
            {move || error.get().map(|e| view! { <p id=error_id.clone() class="mt-1 text-sm text-red-700">{e}</p> })}
        </div>
    }
}

/// The submit button of a form, disabled while its action runs.
#[component]
pub fn Submit(#[prop(into)] label: String, #[prop(optional, into)] pending: Signal<bool>) -> impl IntoView {
    view! { <button type="submit" class=BUTTON disabled=move || pending.get()>{label}</button> }
}

/// A coloured label: `good`, `bad`, `warn` or anything else (neutral).
#[component]
pub fn Badge(#[prop(into)] text: String, #[prop(optional, into)] tone: Option<String>) -> impl IntoView {
    let colours = match tone.as_deref().unwrap_or(text.as_str()) {
        "good" | "active" | "delivered" | "processed" | "success" => {
            "bg-emerald-50 text-emerald-800 ring-emerald-600/20"
        }
        "bad" | "failed" | "revoked" | "suspended" | "disabled" | "cancelled" => {
            "bg-red-50 text-red-800 ring-red-600/20"
        }
        "warn" | "pending" | "past_due" | "accepted" | "expired" => "bg-amber-50 text-amber-900 ring-amber-600/20",
        _ => "bg-slate-100 text-slate-800 ring-slate-500/20",
    };
    view! {
        <span class=format!("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {colours}")>
            {text}
        </span>
    }
}

/// The failure of an action, as an alert.
#[component]
pub fn ProblemNote(#[prop(into)] problem: Signal<Option<Problem>>) -> impl IntoView {
    move || {
        problem.get().map(|p| {
            view! {
                <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
                    {p.message}
                </div>
            }
        })
    }
}

/// A success message, announced politely.
#[component]
pub fn Success(#[prop(into)] text: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div role="status" aria-live="polite">
            {move || text.get().map(|t| view! {
                <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900">{t}</p>
            })}
        </div>
    }
}

#[component]
pub fn EmptyState(#[prop(into)] text: String, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
            <p class="text-sm text-slate-700">{text}</p>
            {children.map(|c| view! { <div class="mt-4">{c()}</div> })}
        </div>
    }
}

/// A secret the server will never show again, with a button that copies it.
#[component]
pub fn SecretBox(#[prop(into)] label: String, #[prop(into)] value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let id = format!("secret-{}", label.to_lowercase().replace(' ', "-"));
    let copy = {
        let value = value.clone();
        move |_| {
            crate::components::layout::copy_to_clipboard(&value);
            copied.set(true);
        }
    };
    view! {
        <div class="rounded-md border border-amber-300 bg-amber-50 p-4">
            <label for=id.clone() class="block text-sm font-semibold text-amber-950">{label.clone()}</label>
            <p class="mt-1 text-xs text-amber-950">"Shown once: copy it now, it is not shown again."</p>
            <div class="mt-2 flex gap-2">
                <input id=id readonly value=value class=format!("{INPUT} font-mono")/>
                <button type="button" class=SECONDARY on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

/// A problem out of an action's last result, for [`ProblemNote`] and the fields.
pub fn problem_of<T, S>(value: S) -> Signal<Option<Problem>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, ServerFnError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()).map(|e| Problem::of(&e)))
}

/// One field's message out of a [`problem_of`] signal.
pub fn field_error(problem: Signal<Option<Problem>>, name: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || problem.get().and_then(|p| p.field(name)))
}

/// A destructive action behind a confirmation: `label` opens the question, whose answer is the
/// `children` (a form with the real submit button) or "Cancel".
#[component]
pub fn Confirm(#[prop(into)] label: String, #[prop(into)] question: String, children: ChildrenFn) -> impl IntoView {
    let open = RwSignal::new(false);
    let label = StoredValue::new(label);
    let question = StoredValue::new(question);
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class=DANGER on:click=move |_| open.set(true)>{label.get_value()}</button>
            }
        >
            <div role="alertdialog" aria-label=question.get_value()
                class="inline-flex flex-wrap items-center gap-2 rounded-md border border-red-200 bg-red-50 px-3 py-2">
                <p class="text-sm text-red-900">{question.get_value()}</p>
                {children()}
                <button type="button" class=SECONDARY on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </Show>
    }
}

/// A table: its header cells from `headers` (an empty one is an actions column, named for screen
/// readers only) and its rows from `children`.
#[component]
pub fn DataTable(headers: &'static [&'static str], children: Children) -> impl IntoView {
    view! {
        // Focusable: a wide table scrolls, and the keyboard must be able to scroll it.
        <div tabindex="0" class="overflow-x-auto rounded-lg border border-slate-200 bg-white focus:outline-none focus:ring-2 focus:ring-brand/40">
            <table class="min-w-full text-left text-sm">
                <thead class="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-600">
                    <tr>
                        {headers.iter().map(|h| match *h {
                            "" => view! { <th scope="col" class="px-4 py-2"><span class="sr-only">"Actions"</span></th> }.into_any(),
                            h => view! { <th scope="col" class="px-4 py-2">{h}</th> }.into_any(),
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{children()}</tbody>
            </table>
        </div>
    }
}
