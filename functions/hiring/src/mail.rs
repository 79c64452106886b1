//! The SES adapter of the [`TokenMail`] port: the applicant's token, mailed by hiring itself.
//! Every other mail of hiring's flow goes through notifications, from events; this one cannot,
//! since no event may carry the token.

use ates_kernel::mail::Mailer;

use crate::application::Application;
use crate::ports::{NotMailed, TokenMail};

/// Mail through SES, with links into the web app at `site` (`https://…`, no trailing slash).
pub struct Ses {
    pub mailer: Mailer,
    pub site: String,
}

/// The token's mail: where to follow the application, and the token to do it with. The token
/// rides in the link's fragment, which browsers never send to a server.
pub fn token_mail(application: &Application, token: &str, site: &str) -> (String, String) {
    let id = application.application_id;
    let subject = format!("Your application to UberPopug as a {}", application.kind);
    let text = format!(
        "Hello {name},\n\n\
         we received your application to join UberPopug as a {kind}.\n\
         Follow it here: {site}/#/application/{id}/{token}\n\n\
         Or use application id {id} with this token: {token}\n\
         The token works for 14 days; applying again with the same address mails a new one.\n\
         Keep it to yourself: it is the only key to your application.\n",
        name = application.full_name,
        kind = application.kind,
    );
    (subject, text)
}

impl TokenMail for Ses {
    async fn mail_token(&self, application: &Application, token: &str) -> Result<(), NotMailed> {
        let (subject, text) = token_mail(application, token, &self.site);
        self.mailer
            .send(&application.email, &subject, &text)
            .await
            .map_err(|e| NotMailed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::NewApplication;
    use crate::token::Token;
    use rand::SeedableRng;

    #[test]
    fn the_mail_carries_the_link_and_the_token_and_nothing_of_the_hash() {
        let now = chrono::Utc::now();
        let token = Token::issue(&mut rand::rngs::StdRng::seed_from_u64(5), now);
        let new = NewApplication {
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            kind: "worker".into(),
        };
        let application = Application::submit(&new.validate().unwrap(), token.kept.clone(), now);
        let (subject, text) = token_mail(&application, &token.secret, "https://ates.test");
        assert!(subject.contains("worker"));
        let link = format!(
            "https://ates.test/#/application/{}/{}",
            application.application_id, token.secret
        );
        assert!(text.contains(&link), "{text}");
        assert!(!text.contains(&token.kept.hash));
    }
}
