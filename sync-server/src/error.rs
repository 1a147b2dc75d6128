//! The relay's one error type. Every failure a client can cause or see is one of
//! these: the client gets a short generic reason ([`Error::public`], or the HTTP
//! response from [`IntoResponse`]), the log gets the detail ([`std::fmt::Display`]).
//! In the spirit of launchbadge/realworld-axum-sqlx `src/http/error.rs`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use paktum_shared::refusal::{Code, Refusal};

use crate::auth::AuthError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A sync connection without a valid device token.
    #[error("sync connection refused: {0}")]
    Unauthorized(AuthError),
    /// An enrolment code that is unknown, used or expired (its message is for people).
    #[error("enrolment refused: {0}")]
    Enrolment(AuthError),
    /// Bytes that do not decode as the protocol says.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A well-formed message that breaks the protocol (a second join, …).
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    /// The client's `join` names no protocol version the relay speaks.
    #[error("unsupported protocol version")]
    UnsupportedVersion,
    #[error("too many documents open on one connection (limit {0})")]
    TooManyDocuments(usize),
    #[error("too many connections for one device (limit {0})")]
    TooManyConnections(usize),
    /// The connection did not read what the relay sent fast enough.
    #[error("connection cannot keep up")]
    TooSlow,
    #[error("sync message for a document could not be applied: {0}")]
    BadSync(String),
    /// Too many failed enrolments from one address or for one code prefix.
    #[error("enrolment rate-limited by {by} for {retry_after_secs} s")]
    RateLimited {
        by: &'static str,
        retry_after_secs: u64,
    },
    /// A document this device may not erase, or that does not exist (one answer for
    /// both, so existence does not leak).
    #[error("erasure refused: {0}")]
    NoErasure(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("directory error: {0}")]
    Directory(AuthError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// What the client is told: never a detail of ours.
    pub fn public(&self) -> String {
        match self {
            Error::Unauthorized(_) => "this device is not enrolled or was revoked".into(),
            // Written for the person holding the code: what to do next.
            Error::Enrolment(e) => e.to_string(),
            Error::Malformed(_) => "malformed message".into(),
            Error::Protocol(what) => (*what).into(),
            Error::UnsupportedVersion => "unsupported protocol version".into(),
            Error::TooManyDocuments(limit) => {
                format!("too many documents open on one connection (limit {limit})")
            }
            Error::TooManyConnections(limit) => {
                format!("too many connections for one device (limit {limit})")
            }
            Error::TooSlow => "connection closed by the relay: it fell behind".into(),
            Error::BadSync(_) => "a sync message could not be applied".into(),
            Error::RateLimited {
                retry_after_secs, ..
            } => format!(
                "too many attempts; wait {retry_after_secs} seconds, then check the code and try again"
            ),
            Error::NoErasure(_) => {
                "no such record, or you may not erase it (coordinators erase their own team's records)".into()
            }
            Error::Storage(_) | Error::Directory(_) | Error::Internal(_) => {
                "the relay could not do this just now; try again later".into()
            }
        }
    }

    /// The stable code beside [`Error::public`]'s sentence, for the app to word.
    pub fn code(&self) -> Code {
        match self {
            Error::Unauthorized(_) => Code::NotEnrolled,
            Error::Enrolment(AuthError::UsedCode) => Code::CodeUsed,
            Error::Enrolment(AuthError::ExpiredCode) => Code::CodeExpired,
            Error::Enrolment(_) => Code::CodeUnknown,
            Error::Malformed(_) => Code::Malformed,
            Error::UnsupportedVersion => Code::ProtocolVersion,
            Error::Protocol(_) => Code::ProtocolViolation,
            Error::TooManyDocuments(_) => Code::TooManyDocuments,
            Error::TooManyConnections(_) => Code::TooManyConnections,
            Error::TooSlow => Code::TooSlow,
            Error::BadSync(_) => Code::BadSync,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::NoErasure(_) => Code::NotPermitted,
            Error::Storage(_) | Error::Directory(_) | Error::Internal(_) => Code::Unavailable,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Enrolment(_)
            | Error::Malformed(_)
            | Error::Protocol(_)
            | Error::UnsupportedVersion
            | Error::BadSync(_) => StatusCode::BAD_REQUEST,
            Error::TooManyDocuments(_)
            | Error::TooManyConnections(_)
            | Error::TooSlow
            | Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::NoErasure(_) => StatusCode::FORBIDDEN,
            Error::Storage(_) | Error::Directory(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing | AuthError::Unknown | AuthError::Revoked => Error::Unauthorized(e),
            AuthError::UnknownCode | AuthError::UsedCode | AuthError::ExpiredCode => {
                Error::Enrolment(e)
            }
            AuthError::Invalid(_) | AuthError::Db(_) => Error::Directory(e),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::warn!(reason = %self, "request refused");
        }
        let retry_after = match self {
            Error::RateLimited {
                retry_after_secs, ..
            } => Some(retry_after_secs),
            _ => None,
        };
        let refusal = Refusal {
            error: self.public(),
            code: Some(self.code()),
            retry_after_secs: retry_after,
        };
        let mut response = (status, Json(refusal)).into_response();
        if let Some(retry_after_secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_get_the_generic_reason_and_the_log_the_detail() {
        let e = Error::Malformed("cbor: unexpected end at byte 17".into());
        assert_eq!(e.public(), "malformed message");
        assert!(e.to_string().contains("byte 17"));
        let e = Error::from(StorageError::Write("disk I/O error in chunks".into()));
        assert!(!e.public().contains("chunks"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            Error::from(AuthError::Revoked).status(),
            StatusCode::UNAUTHORIZED
        );
        let limited = Error::RateLimited {
            by: "address",
            retry_after_secs: 30,
        }
        .into_response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "30");
        assert!(
            Error::from(AuthError::UsedCode)
                .public()
                .contains("already used")
        );
    }

    #[test]
    fn each_refusal_carries_its_code() {
        let code = |e: AuthError| Error::from(e).code();
        assert_eq!(code(AuthError::Missing), Code::NotEnrolled);
        assert_eq!(code(AuthError::Unknown), Code::NotEnrolled);
        assert_eq!(code(AuthError::Revoked), Code::NotEnrolled);
        assert_eq!(code(AuthError::UsedCode), Code::CodeUsed);
        assert_eq!(code(AuthError::ExpiredCode), Code::CodeExpired);
        assert_eq!(code(AuthError::UnknownCode), Code::CodeUnknown);
        assert_eq!(code(AuthError::Db("locked".into())), Code::Unavailable);
        assert_eq!(Error::UnsupportedVersion.code(), Code::ProtocolVersion);
        assert_eq!(
            Error::Protocol("join sent twice").code(),
            Code::ProtocolViolation
        );
        assert_eq!(Error::TooSlow.code(), Code::TooSlow);
    }
}
