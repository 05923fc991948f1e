//! What people read: the Slack message and the staff email for a case event, and the
//! customer's email when their case is closed. Built from the webhook body, so every
//! channel says the same thing.

use serde_json::Value;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn headline(body: &Value) -> String {
    let case = &body["data"]["case"];
    let rating = &body["data"]["rating"];
    let what = match text(&body["type"]) {
        "case.opened" => "New near miss",
        "case.overdue" => "OVERDUE near miss",
        "case.closed" => "Closed",
        _ => "Updated",
    };
    format!(
        "{what} {}: {}/{} at {}",
        text(&case["ref"]),
        rating["score"],
        rating["scale"],
        text(&case["site_name"])
    )
}

/// The lines every staff message carries: comment, reasons, contact, deadline, link.
fn lines(body: &Value, public_url: &str) -> Vec<String> {
    let case = &body["data"]["case"];
    let details = &body["data"]["rating"]["details"];
    let mut lines = Vec::new();
    if let Some(comment) = details["comment"].as_str() {
        lines.push(format!("Comment: \"{comment}\""));
    }
    if let Some(reasons) = details["reasons"].as_array().filter(|r| !r.is_empty()) {
        let reasons: Vec<&str> = reasons.iter().map(text).collect();
        lines.push(format!("Reasons: {}", reasons.join(", ")));
    }
    let contact = &details["contact"];
    let reach: Vec<&str> = ["name", "email", "phone"]
        .iter()
        .filter_map(|k| contact[*k].as_str())
        .collect();
    lines.push(if reach.is_empty() {
        "Contact: the customer left no way to reach them".into()
    } else {
        format!("Contact (consented): {}", reach.join(", "))
    });
    if let Some(interaction) = body["data"]["rating"]["interaction"].as_str() {
        lines.push(format!("Interaction: {interaction}"));
    }
    if text(&case["status"]) == "open" {
        lines.push(format!(
            "Acknowledge by {}; close by {}",
            text(&case["ack_due_at"]),
            text(&case["close_due_at"])
        ));
    }
    lines.push(format!(
        "Case: {public_url}/v1/cases/{}",
        text(&case["ref"])
    ));
    lines
}

/// A Slack-compatible incoming-webhook body.
pub fn slack(body: &Value, public_url: &str) -> Value {
    let mut text = format!("*{}*", headline(body));
    for line in lines(body, public_url) {
        text.push('\n');
        text.push_str(&line);
    }
    serde_json::json!({ "text": text })
}

/// Subject and plain-text body of the staff email.
pub fn staff_email(body: &Value, public_url: &str) -> (String, String) {
    let subject = format!("[nearmiss] {}", headline(body));
    let mut text = lines(body, public_url).join("\n");
    text.push('\n');
    (subject, text)
}

/// Subject and body of the email telling the customer what changed, with a one-click
/// re-rating link.
pub fn customer_email(body: &Value, rerate_url: &str) -> (String, String) {
    let case = &body["data"]["case"];
    let site = text(&case["site_name"]);
    let steps = case["steps"].as_array().cloned().unwrap_or_default();
    let note_of = |step: &str| {
        steps
            .iter()
            .rev()
            .find(|s| s["step"] == step)
            .and_then(|s| s["note"].as_str().map(str::to_owned))
    };
    let prevention = steps
        .iter()
        .rev()
        .find_map(|s| s["prevention"]["action"].as_str().map(str::to_owned));
    let mut text = format!(
        "Hello,\n\nYou told us your experience at {site} was not what it should have been \
         (reference {}). Thank you: we looked into it.\n\n",
        self::text(&case["ref"])
    );
    if let Some(told) = note_of("customer_told") {
        text.push_str(&format!("What we did: {told}\n"));
    }
    if let Some(action) = prevention {
        text.push_str(&format!(
            "What we changed so it does not happen again: {action}\n"
        ));
    }
    text.push_str(&format!(
        "\nWould you give us another try? One click rates your next experience:\n{rerate_url}\n\n\
         {site}\n"
    ));
    (format!("What we changed after your feedback, {site}"), text)
}
