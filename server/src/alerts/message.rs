//! What people read: the Slack message and the staff email for a case event, made from
//! the typed webhook body so every channel says the same thing; the email to a customer,
//! and the draft the desk proposes for it.

use crate::bodies::{Case, CaseView, CustomerEmail, Deadline, OriginNotice, WebhookBody};
use crate::states::{Event, Status, Step};
use crate::time::{clock, span};

fn headline(body: &WebhookBody) -> String {
    let case = &body.data.case;
    let rating = &body.data.rating;
    let what = match body.event {
        Event::Opened => "New near miss",
        Event::Overdue => "OVERDUE near miss",
        Event::Closed => "Closed",
        Event::Updated => "Updated",
    };
    format!(
        "{what} {}: {}/{} at {}",
        case.reference, rating.score, rating.scale, case.site_name
    )
}

/// The lines every staff message carries: comment, reasons, contact, deadline, link.
fn lines(body: &WebhookBody, public_url: &str) -> Vec<String> {
    let case = &body.data.case;
    let rating = &body.data.rating;
    let details = rating.details.as_ref();
    let mut lines = Vec::new();
    if let Some(comment) = details.and_then(|d| d.comment.as_deref()) {
        // Quoted line by line: a comment cannot add a line that reads like ours.
        lines.push("The customer wrote:".into());
        lines.extend(comment.lines().map(|line| format!("> {line}")));
    }
    if let Some(reasons) = details.map(|d| &d.reasons).filter(|r| !r.is_empty()) {
        lines.push(format!("Reasons: {}", reasons.join(", ")));
    }
    let reach: Vec<&str> = details
        .and_then(|d| d.contact.as_ref())
        .map(|c| {
            [&c.name, &c.email, &c.phone]
                .into_iter()
                .filter_map(|v| v.as_deref())
                .collect()
        })
        .unwrap_or_default();
    lines.push(if reach.is_empty() {
        "Contact: the customer left no way to reach them".into()
    } else {
        format!("Contact (consented): {}", reach.join(", "))
    });
    if let Some(interaction) = &rating.interaction {
        lines.push(format!("Interaction: {interaction}"));
    }
    if case.status == Status::Open {
        lines.push(deadline(case, body.timestamp.0));
    }
    lines.push(format!("Case: {public_url}/desk/cases/{}", case.reference));
    lines
}

/// The deadline in the site's time zone and in words, as of `now`: "Acknowledge by
/// 14:15 GMT, in 12 minutes", "Close was due Fri 27 Nov 14:15 GMT, 3 hours ago".
fn deadline(case: &Case, now: i64) -> String {
    let (which, due) = case.next_deadline();
    let what = match which {
        Deadline::Acknowledge => "Acknowledge",
        Deadline::Close => "Close",
    };
    let at = clock(due, &case.timezone, now);
    if due <= now {
        format!("{what} was due {at}, {} ago", span(now - due))
    } else {
        format!("{what} by {at}, in {}", span(due - now))
    }
}

/// A Slack-compatible incoming-webhook body.
#[derive(Debug, serde::Serialize)]
pub struct SlackMessage {
    /// Slack's mrkdwn text.
    pub text: String,
}

/// Text as Slack shows it literally: its control characters escaped, so what a
/// customer typed can never ping a channel (`<!channel>`) or forge a link (`<url|text>`).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Slack message for an event.
pub fn slack(body: &WebhookBody, public_url: &str) -> SlackMessage {
    let mut text = format!("*{}*", slack_escape(&headline(body)));
    for line in lines(body, public_url) {
        text.push('\n');
        text.push_str(&slack_escape(&line));
    }
    SlackMessage { text }
}

/// Subject and plain-text body of the staff email.
pub fn staff_email(body: &WebhookBody, public_url: &str) -> (String, String) {
    let subject = format!("[nearmiss] {}", headline(body));
    let mut text = lines(body, public_url).join("\n");
    text.push('\n');
    (subject, text)
}

/// Subject and body of an email to the customer: what the person wrote, as written,
/// then a one-click re-rating link. The desk's preview is this with a stand-in link.
pub fn customer_email(email: &CustomerEmail, rerate_url: &str) -> (String, String) {
    let mut text = email.message.trim_end().to_owned();
    text.push_str(&format!(
        "\n\nWould you give us another try? One click rates your next experience:\n\
         {rerate_url}\n\n(Reference {})\n",
        email.reference
    ));
    (format!("About your feedback to {}", email.site_name), text)
}

/// What the desk proposes to write to the customer of `view`: the apology, what was
/// given to make up for it, and what changed, for the person to edit before it is sent.
pub fn customer_draft(view: &CaseView) -> String {
    let case = &view.case;
    let name = view
        .rating
        .details
        .as_ref()
        .and_then(|d| d.contact.as_ref())
        .and_then(|c| c.name.as_deref());
    let latest = |step: Step| {
        case.steps
            .iter()
            .rev()
            .find(|s| s.step == step)
            .and_then(|s| s.note.as_deref())
    };
    let mut text = match name {
        Some(name) => format!("Hello {name},\n\n"),
        None => "Hello,\n\n".to_owned(),
    };
    text.push_str(&format!(
        "Thank you for telling us about your visit to {} (reference {}). It was not what \
         it should have been, and we are sorry.\n\n",
        case.site_name, case.reference
    ));
    if let Some(given) = latest(Step::MadeGood) {
        text.push_str(&format!("To make up for it: {given}\n"));
    }
    let prevention = case.steps.iter().rev().find_map(|s| s.prevention.as_ref());
    if let Some(prevention) = prevention {
        text.push_str(&format!(
            "What we changed so it does not happen again: {}\n",
            prevention.action
        ));
    }
    text.push_str(&format!("\n{}", case.site_name));
    text
}

/// The email an older build queued for a closed case (its payload the case's webhook
/// body): said in the product's words only, as no person wrote it for the customer.
pub fn legacy_customer_email(body: &WebhookBody) -> CustomerEmail {
    let case = &body.data.case;
    CustomerEmail {
        reference: case.reference.clone(),
        site_name: case.site_name.clone(),
        step: Step::Closed,
        message: format!(
            "Hello,\n\nThank you for telling us about your visit to {}. We looked into \
             it.\n\n{}",
            case.site_name, case.site_name
        ),
    }
}

/// What the notice of a refused origin says, line by line.
fn origin_lines(notice: &OriginNotice, public_url: &str) -> (String, Vec<String>) {
    let headline = format!(
        "Ratings from {} are being refused for {}",
        notice.origin, notice.site_name
    );
    let lines = vec![
        format!(
            "The widget is on pages at {}, which is not one of the site's origins, so \
             customers there cannot rate (the widget stays hidden).",
            notice.origin
        ),
        "If those pages are yours, add the origin to the site:".into(),
        format!("{public_url}/desk/settings/sites/{}", notice.site_id),
    ];
    (headline, lines)
}

/// The Slack message for a refused origin.
pub fn origin_slack(notice: &OriginNotice, public_url: &str) -> SlackMessage {
    let (headline, lines) = origin_lines(notice, public_url);
    let mut text = format!("*{}*", slack_escape(&headline));
    for line in lines {
        text.push('\n');
        text.push_str(&slack_escape(&line));
    }
    SlackMessage { text }
}

/// Subject and body of the staff email for a refused origin.
pub fn origin_email(notice: &OriginNotice, public_url: &str) -> (String, String) {
    let (headline, lines) = origin_lines(notice, public_url);
    (format!("[nearmiss] {headline}"), lines.join("\n") + "\n")
}
