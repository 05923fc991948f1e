//! Everything the customer reads that the business does not set. English for now; one
//! place to translate.

pub const OPEN_BUTTON: &str = "Rate your visit";
pub const QUESTION: &str = "How was your visit?";
pub const CLOSE: &str = "Close";
pub const OF: &str = " of ";
pub const PERFECT_THANKS: &str = "Thank you! We're so glad.";
pub const PERFECT_PROMPT: &str = "What made it great?";
pub const MISS_PROMPT: &str = "What should have been better?";
pub const CONTACT_CONSENT: &str = "May we contact you about this?";
pub const CONTACT_LABEL: &str = "Email or phone number";
pub const SEND: &str = "Send";
pub const SENDING: &str = "Sending…";
pub const PROMISE_WITHIN: &str = " will get back to you within ";
pub const PROMISE_LOOK: &str = " will look into this within ";
pub const MINUTES: &str = " minutes.";
pub const DONE_MISS: &str = "Thank you for telling us. Your reference is ";
pub const DONE_CONTACT_BY: &str = " will contact you by ";
pub const DONE_LOOK_BY: &str = " will look into it by ";
pub const DONE_PERFECT: &str = "Thank you for your feedback!";
pub const REVIEW: &str = "Share a public review";
pub const NOT_SENT: &str = "We couldn't send this. Please try again.";
pub const OFFLINE: &str = "You're offline. We'll send your feedback once you're back.";
pub const UNAVAILABLE: &str = "Feedback isn't available right now.";
