//! Settling an attempt: a provider's answer (or its absence) through the
//! state machine, checked against what the provider echoes, with the
//! session, its event and the live widget following.

use kasir_shared::ErrorCode;
use kasir_shared::api::NextAction;
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};

use crate::AppState;
use crate::error::ApiError;
use crate::payments::object::snapshot_fn;
use crate::providers::{ProviderAction, ProviderError, ProviderOutcome};
use crate::store::{AttemptRow, AttemptSettle, AttemptUpdate, now_ms};

/// Converts a provider's next action into the widget's, storing 3DS HTML
/// for the one-time URL. QR payloads are validated before they are shown.
pub(super) fn widget_action(
    state: &AppState,
    attempt: &AttemptRow,
    action: Option<ProviderAction>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let attempt_id = attempt.id.as_str();
    let Some(action) = action else { return Ok((None, None)) };
    let (next, html) = match action {
        ProviderAction::ThreeDsHtml(html) => (
            NextAction::ThreeDs { url: format!("{}/v1/widget/3ds/{attempt_id}", state.config.public_url) },
            Some(html),
        ),
        ProviderAction::ShowQr { payload, image_url, expires_at_ms } => {
            if let Some(p) = &payload {
                kasir_shared::qris::QrisPayload::parse(p).map_err(|e| {
                    tracing::error!(attempt = %attempt_id, code = e.code(), "provider sent an invalid QRIS payload");
                    ApiError::code(ErrorCode::ProviderUnavailable)
                })?;
            }
            (NextAction::ShowQr { qr_payload: payload, image_url, expires_at: expires_at_ms / 1000 }, None)
        }
        ProviderAction::ShowVirtualAccount { bank, number, biller_code, expires_at_ms } => (
            NextAction::ShowVirtualAccount {
                bank,
                number,
                biller_code,
                expires_at: expires_at_ms / 1000,
                steps: Vec::new(),
            },
            None,
        ),
        ProviderAction::Redirect { url, qr_payload, qr_image_url } => {
            // A wallet's QR is a convenience beside its link: one that does
            // not parse is left out (and logged), the link still pays.
            let qr_payload = qr_payload.filter(|p| {
                let valid = kasir_shared::qris::QrisPayload::parse(p).is_ok();
                if !valid {
                    tracing::warn!(attempt = %attempt_id, "provider sent an invalid wallet QR payload; link only");
                }
                valid
            });
            (NextAction::Redirect { url, qr_payload, qr_image_url }, None)
        }
        // The steps are added in the session's language when it is shown.
        ProviderAction::ShowPaymentCode { store, code, expires_at_ms } => (
            NextAction::ShowPaymentCode {
                store,
                code,
                expires_at: expires_at_ms / 1000,
                instructions: Vec::new(),
            },
            None,
        ),
    };
    let json = serde_json::to_string(&next).map_err(|e| ApiError::Store(e.into()))?;
    Ok((Some(json), html))
}

/// The provider's answer (or its absence) as a status and a source.
pub(super) fn outcome_status(
    result: &Result<ProviderOutcome, ProviderError>,
) -> (PaymentStatus, StatusSource) {
    match result {
        Ok(outcome) => (outcome.status, StatusSource::ProviderResponse),
        Err(ProviderError::Timeout | ProviderError::Unavailable(_) | ProviderError::NotFound) => {
            (PaymentStatus::Unknown, StatusSource::Timeout)
        }
        Err(ProviderError::Refused { .. }) => (PaymentStatus::Failed, StatusSource::ProviderResponse),
    }
}

/// Settles `attempt_id` with a provider answer (creation, inquiry,
/// cancellation); `inquiry` marks the source as the provider's word.
pub async fn settle_with(
    state: &AppState,
    attempt: &AttemptRow,
    result: Result<ProviderOutcome, ProviderError>,
    source_override: Option<StatusSource>,
) -> Result<AttemptRow, ApiError> {
    // Only the attempt's fixed fields (id, amount, provider) are read here:
    // the caller's row, however old its status, serves.
    let attempt_id = attempt.id.as_str();
    let result = result.map(|outcome| checked(state, attempt, outcome));
    let (status, source) = outcome_status(&result);
    let source = source_override.unwrap_or(source);
    let mut update = AttemptUpdate {
        reconcile_after: Some(now_ms() + ms(state.config.timings.reconcile_after)),
        ..AttemptUpdate::default()
    };
    match result {
        Ok(outcome) => {
            let (next_action, html) = widget_action(state, attempt, outcome.action)?;
            if let Some(html) = html {
                state.store.put_three_ds_html(attempt_id, &html).await?;
            }
            update.provider_ref = outcome.provider_ref;
            update.next_action = next_action;
            update.failure_code = outcome.failure_code;
            if status == PaymentStatus::RequiresAction {
                update.reconcile_after = Some(now_ms() + waiting_delay_ms(state, Some(&attempt.provider)));
            }
        }
        Err(ProviderError::Refused { code }) => update.failure_code = Some(code),
        Err(_) => {}
    }
    settle(state, attempt_id, status, source, &update, None).await
}

/// The provider's answer if what it echoes (amount, currency, our order
/// number, the amount inside a QR code) is the attempt's; else an `unknown`
/// outcome, logged and counted: an answer about another payment or amount
/// never settles this one (issue 14). The reconciler keeps asking and the
/// merchant is asked to review it after `review_after`.
fn checked(state: &AppState, attempt: &AttemptRow, outcome: ProviderOutcome) -> ProviderOutcome {
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let qr_amount = match &outcome.action {
        Some(
            ProviderAction::ShowQr { payload: Some(p), .. }
            | ProviderAction::Redirect { qr_payload: Some(p), .. },
        ) => kasir_shared::qris::QrisPayload::parse(p).ok().and_then(|qr| qr.amount()),
        _ => None,
    };
    let why = outcome.echo.mismatch(&attempt.id, amount).or_else(|| {
        qr_amount
            .filter(|a| *a != amount)
            .map(|a| format!("QR code for {} where the attempt is {}", a.rupiah(), amount.rupiah()))
    });
    let Some(why) = why else { return outcome };
    state.metrics.provider_mismatch(&attempt.provider);
    tracing::error!(attempt = %attempt.id, provider = %attempt.provider, reported = %outcome.status, %why,
        "provider answer does not match the attempt; left unknown for review");
    let other_order = outcome.echo.order.as_deref().is_some_and(|o| o != attempt.id);
    ProviderOutcome {
        // An answer about another order says nothing of this payment's id.
        provider_ref: if other_order { None } else { outcome.provider_ref },
        status: PaymentStatus::Unknown,
        action: None,
        failure_code: None,
        echo: outcome.echo,
    }
}

/// When to ask again about an attempt waiting for the shopper: soon and
/// often for providers that send no webhook for it (SingaPay's 3DS), else
/// when a QR/VA would have expired or after the reconcile delay.
pub fn waiting_delay_ms(state: &AppState, provider: Option<&str>) -> i64 {
    let poll = provider.and_then(|p| state.providers.get(p)).and_then(|p| p.poll_while_waiting());
    match poll {
        Some(every) => ms(every),
        None => ms(state.config.timings.reconcile_after).max(15 * 60_000),
    }
}

/// Moves the attempt (and its session) and tells SSE listeners.
pub async fn settle(
    state: &AppState,
    attempt_id: &str,
    status: PaymentStatus,
    source: StatusSource,
    update: &AttemptUpdate,
    session_to: Option<SessionStatus>,
) -> Result<AttemptRow, ApiError> {
    let snapshot = snapshot_fn(state.config.public_url.clone());
    let settled = state
        .store
        .settle_attempt(attempt_id, status, source, update, session_to, &snapshot)
        .await?
        .ok_or(ApiError::NotFound)?;
    match settled {
        AttemptSettle::Changed { attempt, session, event } => {
            if let Some(event) = event {
                tracing::info!(attempt = %attempt.id, session = %session.id, event = %event.id,
                    kind = %event.event_type, "attempt settled");
                state.wake_delivery();
            }
            state.notify_session(&session.id);
            Ok(attempt)
        }
        AttemptSettle::Late { attempt, session, event } => {
            if let Some(event) = event {
                tracing::error!(attempt = %attempt.id, session = %session.id, event = %event.id,
                    "money arrived for a closed attempt: recorded as a late payment");
                state.metrics.late_payment(&attempt.provider);
                state.wake_delivery();
            }
            state.notify_session(&session.id);
            Ok(attempt)
        }
        AttemptSettle::Unchanged(attempt, _) => Ok(attempt),
        AttemptSettle::Refused(attempt, _, reason) => {
            tracing::warn!(attempt = %attempt.id, from = %attempt.status, to = %status, ?source, ?reason,
                "attempt transition refused");
            Ok(attempt)
        }
    }
}

/// Milliseconds of a duration, saturating.
pub fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
