//! The payment state machine (ARCHITECTURE.md, "Domain rules that do not bend").
//!
//! An attempt moves `processing` ⇄ `requires_action` and ends in `succeeded`,
//! `failed`, `expired` or `cancelled`; those never change again. A call whose
//! outcome we do not know (a timeout) is `unknown`, and only the provider's
//! word, through a webhook or a status inquiry, may settle it: that is what
//! stops a retry from charging a shopper twice.
//!
//! Two edges exist for money that arrives where the shopper-visible outcome
//! is already final:
//! - The provider's word that a `failed`, `expired` or `cancelled` attempt was
//!   paid after all (a QR paid after it was let go, a card charged after a
//!   refused cancel) is refused with [`TransitionRejection::LatePayment`]:
//!   the attempt stays final for the shopper, and the caller records the money
//!   as a late payment (to refund or to report) instead of dropping it.
//! - A merchant who checked at the provider may settle an attempt whose
//!   outcome Kasir cannot learn (`unknown`, or `processing` with nothing to
//!   ask) with [`StatusSource::Resolution`]: `succeeded` or `failed` only.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of one payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent to (or being sent to) the provider; no outcome yet.
    Processing,
    /// The shopper must act: 3DS, scan a QR, transfer to a VA, approve in a wallet.
    RequiresAction,
    /// Paid. Final.
    Succeeded,
    /// Declined or failed. Final.
    Failed,
    /// The outcome is not known (e.g. the provider call timed out); only a
    /// webhook or a status inquiry may settle it.
    Unknown,
    /// Not paid in time. Final.
    Expired,
    /// Cancelled or voided before payment. Final.
    Cancelled,
}

/// The attempt status under the name the API uses.
pub type AttemptStatus = PaymentStatus;

/// Who reports a new status; some moves are allowed only to some sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSource {
    /// The provider's synchronous answer to our request.
    ProviderResponse,
    /// Our call got no usable answer (timeout, connection error, 5xx, garbage).
    Timeout,
    /// A verified provider webhook.
    Webhook,
    /// A status inquiry we made to the provider.
    Inquiry,
    /// Kasir's own expiry clock.
    Expiry,
    /// A cancellation requested by the merchant or the shopper.
    Cancellation,
    /// The merchant settled an attempt under review with the outcome they
    /// confirmed at the provider (`POST …/resolve`).
    Resolution,
}

/// The result of a permitted transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition<S> {
    /// The status changed to this one: persist it and emit an event.
    Changed(S),
    /// Already in that status (a duplicate or late report): do nothing.
    Unchanged,
}

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionRejection {
    /// The current status is final.
    Final,
    /// `unknown` can be settled only by a webhook or an inquiry.
    UnknownNeedsProvider,
    /// This source cannot report this status.
    WrongSource,
    /// The state machine has no such edge.
    NotAllowed,
    /// The provider says money arrived for an attempt that is already final
    /// and not paid: record it as a late payment, never drop it.
    LatePayment,
}

/// A refused transition, with everything needed to log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{from} -> {to} by {by:?} refused: {reason:?}")]
pub struct TransitionError<S: fmt::Display + fmt::Debug> {
    /// The current status.
    pub from: S,
    /// The status asked for.
    pub to: S,
    /// Who asked.
    pub by: StatusSource,
    /// Why it was refused.
    pub reason: TransitionRejection,
}

impl PaymentStatus {
    /// Every status.
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Processing,
        PaymentStatus::RequiresAction,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Unknown,
        PaymentStatus::Expired,
        PaymentStatus::Cancelled,
    ];

    /// Final statuses never change.
    pub const fn is_final(self) -> bool {
        match self {
            PaymentStatus::Succeeded
            | PaymentStatus::Failed
            | PaymentStatus::Expired
            | PaymentStatus::Cancelled => true,
            PaymentStatus::Processing | PaymentStatus::RequiresAction | PaymentStatus::Unknown => false,
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "processing",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Unknown => "unknown",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the wire name.
    pub fn from_wire(s: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The transition function. Reporting the current status again is
    /// `Unchanged` (idempotent webhooks); everything else must be an edge of
    /// the machine reported by a source allowed to report it.
    pub fn transition(
        self,
        to: PaymentStatus,
        source: StatusSource,
    ) -> Result<Transition<PaymentStatus>, TransitionError<PaymentStatus>> {
        use PaymentStatus as P;
        use StatusSource as S;
        let refuse = |reason| Err(TransitionError { from: self, to, by: source, reason });
        if self == to {
            return Ok(Transition::Unchanged);
        }
        let provider_word = matches!(source, S::Webhook | S::Inquiry);
        if self.is_final() {
            let late = self != P::Succeeded && to == P::Succeeded && provider_word;
            return refuse(if late { TransitionRejection::LatePayment } else { TransitionRejection::Final });
        }
        if source == S::Resolution {
            // Only what the merchant confirmed at the provider, and only on
            // an attempt that is not waiting for the shopper.
            let settles =
                matches!(to, P::Succeeded | P::Failed) && matches!(self, P::Unknown | P::Processing);
            return if settles {
                Ok(Transition::Changed(to))
            } else {
                refuse(TransitionRejection::WrongSource)
            };
        }
        if self == P::Unknown && !provider_word {
            return refuse(TransitionRejection::UnknownNeedsProvider);
        }
        let source_may_report = match to {
            // A timeout can only ever make the outcome unknown; a provider's
            // answer or webhook does when what it echoes (amount, currency,
            // order) is not the attempt's.
            P::Unknown => matches!(source, S::Timeout | S::ProviderResponse | S::Inquiry | S::Webhook),
            P::Expired => matches!(source, S::Expiry | S::Webhook | S::Inquiry | S::ProviderResponse),
            P::Cancelled => matches!(source, S::Cancellation | S::Webhook | S::Inquiry | S::ProviderResponse),
            P::Processing | P::RequiresAction | P::Succeeded | P::Failed => {
                matches!(source, S::ProviderResponse | S::Webhook | S::Inquiry)
            }
        };
        if !source_may_report {
            return refuse(TransitionRejection::WrongSource);
        }
        let edge = match (self, to) {
            (P::Processing | P::RequiresAction | P::Unknown, _) => true,
            (P::Succeeded | P::Failed | P::Expired | P::Cancelled, _) => false,
        };
        if edge { Ok(Transition::Changed(to)) } else { refuse(TransitionRejection::NotAllowed) }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a checkout session, which holds one or more attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for the shopper to pay (no attempt, or only failed ones).
    Open,
    /// An attempt is with the provider, or its outcome is unknown.
    Processing,
    /// An attempt waits for the shopper (3DS, QR, VA, wallet).
    RequiresAction,
    /// Paid.
    Succeeded,
    /// Not paid before `expires_at`. Final.
    Expired,
    /// Cancelled by the merchant. Final.
    Cancelled,
    /// Paid and fully refunded. Final.
    Refunded,
    /// Paid and partly refunded.
    PartiallyRefunded,
}

impl SessionStatus {
    /// Every status.
    pub const ALL: [SessionStatus; 8] = [
        SessionStatus::Open,
        SessionStatus::Processing,
        SessionStatus::RequiresAction,
        SessionStatus::Succeeded,
        SessionStatus::Expired,
        SessionStatus::Cancelled,
        SessionStatus::Refunded,
        SessionStatus::PartiallyRefunded,
    ];

    /// Final statuses never change.
    pub const fn is_final(self) -> bool {
        match self {
            SessionStatus::Expired | SessionStatus::Cancelled | SessionStatus::Refunded => true,
            SessionStatus::Open
            | SessionStatus::Processing
            | SessionStatus::RequiresAction
            | SessionStatus::Succeeded
            | SessionStatus::PartiallyRefunded => false,
        }
    }

    /// Whether money was taken (refunds included).
    pub const fn is_paid(self) -> bool {
        matches!(self, SessionStatus::Succeeded | SessionStatus::PartiallyRefunded | SessionStatus::Refunded)
    }

    /// Whether a new attempt may start. Never while one is in flight or
    /// unknown (that could charge twice), never once paid, expired or cancelled.
    pub const fn accepts_attempts(self) -> bool {
        matches!(self, SessionStatus::Open | SessionStatus::RequiresAction)
    }

    /// The session status that follows from its latest attempt's status.
    pub const fn after_attempt(attempt: PaymentStatus) -> SessionStatus {
        match attempt {
            PaymentStatus::Processing | PaymentStatus::Unknown => SessionStatus::Processing,
            PaymentStatus::RequiresAction => SessionStatus::RequiresAction,
            PaymentStatus::Succeeded => SessionStatus::Succeeded,
            PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled => SessionStatus::Open,
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Processing => "processing",
            SessionStatus::RequiresAction => "requires_action",
            SessionStatus::Succeeded => "succeeded",
            SessionStatus::Expired => "expired",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Refunded => "refunded",
            SessionStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Parses the wire name.
    pub fn from_wire(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The session's transition function. A session with an attempt in flight
    /// cannot expire or be cancelled (the attempt must settle first); a paid
    /// session can only be refunded.
    pub fn transition(
        self,
        to: SessionStatus,
        source: StatusSource,
    ) -> Result<Transition<SessionStatus>, TransitionError<SessionStatus>> {
        use SessionStatus as S;
        let refuse = |reason| Err(TransitionError { from: self, to, by: source, reason });
        if self == to {
            return Ok(Transition::Unchanged);
        }
        if self.is_final() {
            return refuse(TransitionRejection::Final);
        }
        let source = if source == StatusSource::Resolution { StatusSource::Inquiry } else { source };
        if to == S::Expired && source != StatusSource::Expiry
            || to == S::Cancelled && source != StatusSource::Cancellation
        {
            return refuse(TransitionRejection::WrongSource);
        }
        let edge = match self {
            S::Open => {
                matches!(to, S::Processing | S::RequiresAction | S::Succeeded | S::Expired | S::Cancelled)
            }
            S::Processing => matches!(to, S::Open | S::RequiresAction | S::Succeeded),
            S::RequiresAction => {
                matches!(to, S::Open | S::Processing | S::Succeeded | S::Expired | S::Cancelled)
            }
            S::Succeeded | S::PartiallyRefunded => matches!(to, S::PartiallyRefunded | S::Refunded),
            S::Expired | S::Cancelled | S::Refunded => false,
        };
        if edge { Ok(Transition::Changed(to)) } else { refuse(TransitionRejection::NotAllowed) }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
