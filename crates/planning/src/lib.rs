//! Planning that needs an optimiser: shift schedules.
//!
//! It lives outside `switchboard-core` because the integer program is
//! searched within a time budget, and core reads no clock. What it plans
//! from — the forecast, the staffing plan, the grid — is core's.

pub mod schedule;
