//! The contract's states and kinds as types: case steps, case status, case events and
//! where alerts go. Each is written and read in exactly one place (here), so storage,
//! the case engine and the HTTP API cannot disagree on a spelling.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The name in the contract and in storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value with this name.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// A recovery step of a case, in the order they usually happen.
    Step {
        /// Someone owns it; stops the acknowledge clock.
        Acknowledged = "acknowledged",
        /// The customer has heard from a person.
        Contacted = "contacted",
        /// The customer's own problem is put right.
        Fixed = "fixed",
        /// What was given to make up for it.
        MadeGood = "made_good",
        /// The root cause and the action that prevents it happening again.
        CauseFound = "cause_found",
        /// The customer was told what changed.
        CustomerTold = "customer_told",
        /// Done.
        Closed = "closed",
    }
}

named! {
    /// Whether a case is still being worked. Overdue is not a status but a rule over
    /// an open case's deadlines (`cases::Deadlines`).
    Status {
        /// Being worked.
        Open = "open",
        /// Closed by staff.
        Closed = "closed",
    }
}

named! {
    /// What happened to a case, as webhook bodies name it.
    Event {
        /// A near miss opened a case.
        Opened = "case.opened",
        /// Details arrived, a step was recorded, or a re-rating came in.
        Updated = "case.updated",
        /// A deadline passed.
        Overdue = "case.overdue",
        /// The case was closed.
        Closed = "case.closed",
    }
}

named! {
    /// Where a site's alerts go.
    EndpointKind {
        /// A Standard Webhooks endpoint.
        Webhook = "webhook",
        /// A Slack-compatible incoming webhook.
        Slack = "slack",
        /// A staff email address.
        Email = "email",
    }
}

named! {
    /// What an outbox message is: one per endpoint kind, plus the customer's own email
    /// when their case is closed.
    MessageKind {
        /// A signed webhook.
        Webhook = "webhook",
        /// A Slack message.
        Slack = "slack",
        /// A staff email.
        Email = "email",
        /// The email telling the customer what changed.
        CustomerEmail = "customer_email",
        /// A Slack message about a setup problem (not a case).
        SlackNotice = "slack_notice",
        /// A staff email about a setup problem (not a case).
        EmailNotice = "email_notice",
    }
}

named! {
    /// What a person may do on the desk.
    Role {
        /// Manages sites, alert endpoints, people and tokens, and works every case.
        Owner = "owner",
        /// Works the cases of their sites.
        Agent = "agent",
    }
}

/// What an outbox message is about: a case event, or a setup problem a person must fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Something happened to a case.
    Case(Event),
    /// Pages on an origin the site does not allow are sending ratings.
    OriginRefused,
}

impl Topic {
    /// The name in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Case(event) => event.as_str(),
            Topic::OriginRefused => "site.origin_refused",
        }
    }

    /// The topic with this name.
    pub fn parse(text: &str) -> Option<Topic> {
        match text {
            "site.origin_refused" => Some(Topic::OriginRefused),
            text => Event::parse(text).map(Topic::Case),
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<EndpointKind> for MessageKind {
    fn from(kind: EndpointKind) -> MessageKind {
        match kind {
            EndpointKind::Webhook => MessageKind::Webhook,
            EndpointKind::Slack => MessageKind::Slack,
            EndpointKind::Email => MessageKind::Email,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_match_serde() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(*step));
            assert_eq!(serde_json::to_string(step).unwrap(), format!("\"{step}\""));
        }
        assert_eq!(Event::parse("case.overdue"), Some(Event::Overdue));
        assert_eq!(Step::parse("Closed"), None);
    }
}
