//! # Carrying out requests
//!
//! [`Executor`] turns the [`Request`]s the [`App`](crate::app::App) makes
//! into calls of the node's API ([`node::client::ApiClient`]), each on its
//! own task so a slow answer never blocks the UI, and sends every answer
//! back as an [`Event`]. WebSocket topics go to the one reconnecting
//! [`Subscription`].

use node::api::RoundStatus;
use node::client::{ApiClient, ClientError, Subscription, SubscriptionUpdate};
use tokio::sync::mpsc;

use crate::app::{Answer, Event, Failure, Request};

/// Runs requests against one node.
#[derive(Debug)]
pub struct Executor {
    client: ApiClient,
    subscription: Subscription,
    answers: mpsc::UnboundedSender<Event>,
}

impl Executor {
    /// An executor for `client` that sends answers on `answers`. Must be
    /// called inside a tokio runtime (the subscription starts at once).
    pub fn new(client: ApiClient, answers: mpsc::UnboundedSender<Event>) -> Executor {
        let subscription = client.subscribe([]);
        Executor {
            client,
            subscription,
            answers,
        }
    }

    /// Starts `request`; its answer arrives later as an event.
    pub fn execute(&self, request: Request) {
        match request {
            Request::Subscribe(topics) => self.subscription.subscribe(topics),
            Request::Unsubscribe(topics) => self.subscription.unsubscribe(topics),
            request => {
                let client = self.client.clone();
                let answers = self.answers.clone();
                tokio::spawn(async move {
                    if let Some(answer) = answer(&client, &answers, request).await {
                        // The UI has quit if this fails; nothing to do.
                        let _ = answers.send(Event::Answer(answer));
                    }
                });
            }
        }
    }

    /// The next WebSocket update.
    pub async fn next_update(&mut self) -> Option<SubscriptionUpdate> {
        self.subscription.next().await
    }
}

fn failed<T>(result: Result<T, ClientError>) -> Result<T, Failure> {
    result.map_err(Failure::from)
}

/// Calls the API for `request`.
async fn answer(
    client: &ApiClient,
    answers: &mpsc::UnboundedSender<Event>,
    request: Request,
) -> Option<Answer> {
    Some(match request {
        Request::Status => Answer::Status(failed(client.status().await)),
        Request::Account(address) => {
            Answer::Account(failed(client.account(&address, None, 20).await))
        }
        Request::Tables => Answer::Tables(failed(client.tables().await)),
        Request::Leaderboard => Answer::Leaderboard(failed(client.leaderboard(None, 10).await)),
        Request::Validators => Answer::Validators(failed(client.validators().await)),
        Request::RecentRounds { table, limit } => {
            let rounds = async {
                let page = client.table_rounds(table, None, limit).await?;
                let mut rounds = Vec::new();
                for summary in page.rounds {
                    if matches!(summary.status, RoundStatus::Settled | RoundStatus::Void) {
                        rounds.push(client.round(table, summary.round).await?);
                    }
                }
                Ok(rounds)
            };
            Answer::RecentRounds {
                table,
                rounds: failed(rounds.await),
            }
        }
        Request::Round {
            table,
            round,
            purpose,
        } => Answer::Round {
            purpose,
            round: failed(client.round(table, round).await),
        },
        Request::Send(actions) => {
            // In order, each after the node took the one before, so the
            // wallet's nonces follow the order asked; the first refusal
            // stops the rest (a bet after a refused seat would fail too).
            let count = actions.len();
            for (i, action) in actions.into_iter().enumerate() {
                let result = failed(client.act(&action, None).await);
                let stop = result.is_err();
                let answer = Answer::Sent { action, result };
                if i + 1 == count || stop {
                    return Some(answer);
                }
                let _ = answers.send(Event::Answer(answer));
            }
            return None;
        }
        Request::Subscribe(_) | Request::Unsubscribe(_) => return None,
    })
}
