//! A client's card on file (SPEC M7): the acquirer's token for it and its last four digits,
//! nothing else of the card. The token is what a charge names; the last four digits and the
//! brand are what the client and the receipts see.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the acquirer tells of a card it accepted: enough to show it, never to charge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDetails {
    pub last4: String,
    pub brand: String,
}

/// The card a client keeps on file: one per client, the newest replacing the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub client_id: Uuid,
    /// The acquirer's token: only payments reads it, only the acquirer understands it.
    pub token: String,
    pub last4: String,
    pub brand: String,
    pub saved_at: DateTime<Utc>,
}

impl Card {
    /// The card the acquirer accepted under `token`, as `client_id`'s card on file.
    pub fn on_file(
        client_id: Uuid,
        token: &CardToken,
        details: CardDetails,
        now: DateTime<Utc>,
    ) -> Card {
        Card {
            client_id,
            token: token.0.clone(),
            last4: details.last4,
            brand: details.brand,
            saved_at: now,
        }
    }

    /// The card as its owner sees it: masked.
    pub fn masked(&self) -> CardDetails {
        CardDetails {
            last4: self.last4.clone(),
            brand: self.brand.clone(),
        }
    }
}

/// The longest token taken: acquirers' tokens are a few dozen characters.
pub const MAX_TOKEN_LENGTH: usize = 200;

/// A token as a client sent it, checked for shape (not yet with the acquirer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToken(String);

impl CardToken {
    /// A token is one word of printable ASCII, 1 to [`MAX_TOKEN_LENGTH`] characters; anything
    /// else is no token of any acquirer's.
    pub fn validate(text: &str) -> Result<CardToken, String> {
        if text.is_empty() || text.len() > MAX_TOKEN_LENGTH {
            return Err(format!(
                "card_token must be 1 to {MAX_TOKEN_LENGTH} characters"
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("card_token must be one word of printable ASCII".into());
        }
        Ok(CardToken(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_one_printable_word_of_bounded_length() {
        assert_eq!(
            CardToken::validate("tok_visa").unwrap().as_str(),
            "tok_visa"
        );
        for bad in [
            "",
            "tok visa",
            "tok_\u{e9}",
            &"t".repeat(MAX_TOKEN_LENGTH + 1),
        ] {
            assert!(CardToken::validate(bad).is_err(), "{bad:?}");
        }
        assert!(CardToken::validate(&"t".repeat(MAX_TOKEN_LENGTH)).is_ok());
    }

    #[test]
    fn a_card_on_file_keeps_the_token_and_shows_only_its_last_four_digits_and_brand() {
        let client = Uuid::now_v7();
        let token = CardToken::validate("tok_visa").unwrap();
        let details = CardDetails {
            last4: "4242".into(),
            brand: "visa".into(),
        };
        let now = "2026-12-01T10:00:00Z".parse().unwrap();
        let card = Card::on_file(client, &token, details.clone(), now);
        assert_eq!((card.client_id, card.token.as_str()), (client, "tok_visa"));
        assert_eq!(card.masked(), details);
        let shown = serde_json::to_value(card.masked()).unwrap();
        assert!(!shown.to_string().contains("tok_visa"));
    }
}
