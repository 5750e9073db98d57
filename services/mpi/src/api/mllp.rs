//! The MLLP listener: one per trust. Each connection reads frames in order and answers each
//! message with its ACK before reading the next, as HL7's original acknowledgement mode
//! expects, so a sender's messages are applied in the order sent.
use crate::api::auth::Authorized;
use crate::api::{hl7, AppState};
use actix_web::web;
use std::time::Duration;
use tessera_access::Activity;
use tessera_bootstrap::{Shutdown, TraceContext};
use tessera_hl7::mllp::{frame, Decoder, Frame};
use tessera_tenancy::{TenantId, TenantState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Listener {
    pub tenant: TenantId,
    pub listener: TcpListener,
    pub max_message_bytes: usize,
    pub idle_timeout: Duration,
}

impl Listener {
    /// Accepts connections until `shutdown`; a failed accept is logged and retried, so it never
    /// fails.
    pub async fn run(
        self,
        state: web::Data<AppState>,
        shutdown: Shutdown,
    ) -> Result<(), std::convert::Infallible> {
        loop {
            tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::warn!(error = %e, "mllp accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    tracing::info!(tenant = %self.tenant, %peer, "mllp connection");
                    let conn = Connection {
                        state: state.clone(),
                        tenant: self.tenant.clone(),
                        user: format!("hl7-mllp:{peer}"),
                        max: self.max_message_bytes,
                        idle: self.idle_timeout,
                    };
                    let stop = shutdown.clone();
                    tokio::spawn(async move { conn.serve(stream, stop).await });
                }
            }
        }
    }
}

struct Connection {
    state: web::Data<AppState>,
    tenant: TenantId,
    user: String,
    max: usize,
    idle: Duration,
}

impl Connection {
    async fn serve(self, mut stream: TcpStream, shutdown: Shutdown) {
        let mut decoder = Decoder::new(self.max);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            while let Some(f) = decoder.next_frame() {
                match f {
                    Frame::Message(bytes) => {
                        let ack = self.answer(&bytes).await;
                        if stream.write_all(&frame(ack.as_bytes())).await.is_err() {
                            return;
                        }
                    }
                    Frame::Garbage(n) => {
                        tracing::warn!(tenant = %self.tenant, bytes = n, "mllp bytes outside a frame skipped");
                    }
                }
            }
            // Finish the message in hand on shutdown; stop reading new ones.
            let read = tokio::select! {
                _ = shutdown.wait() => return,
                r = tokio::time::timeout(self.idle, stream.read(&mut buf)) => r,
            };
            match read {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                Ok(Ok(n)) => decoder.push(buf.get(..n).unwrap_or_default()),
            }
        }
    }

    async fn answer(&self, bytes: &[u8]) -> String {
        let auth = Authorized::system(
            self.state.clone(),
            self.tenant.clone(),
            self.user.clone(),
            // The trust's PAS is the source of a restricted patient's address: it may send it.
            &[
                Activity::AMEND_DEMOGRAPHICS,
                &self.state.restricted_activity,
            ],
            "hl7.adt",
            TraceContext::new_root(),
        );
        if self.state.gate.registry.state(&self.tenant) != Some(TenantState::Ready) {
            return hl7::not_ready(&auth, bytes);
        }
        hl7::handle(&auth, bytes).await
    }
}
