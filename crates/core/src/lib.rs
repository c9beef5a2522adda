//! Switchboard's domain: contacts, agents, queues, the routing engine, metric
//! math, Erlang C/A staffing, the contact-center simulator and the bot/IVR
//! flow language.
//!
//! **This crate does no I/O.** It reads no clock (time is passed in as a
//! [`time::Timestamp`]), opens no file or socket and spawns no thread, so the
//! same engine serves the server, the tests and the simulator.

pub mod adherence;
pub mod agent;
pub mod attributes;
pub mod calendar;
pub mod channel;
pub mod contact;
pub mod engine;
pub mod erlang;
pub mod events;
pub mod expr;
pub mod fasthash;
pub mod flow;
pub mod forecast;
pub mod ids;
pub mod metrics;
pub mod plan;
pub mod policy;
pub mod queue;
pub mod rng;
pub mod rules;
pub mod serde_secs;
pub mod sim;
pub mod skills;
pub mod time;
