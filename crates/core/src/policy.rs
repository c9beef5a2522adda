//! Routing policies: ordered steps whose requirements relax as a contact waits.

use crate::expr::{Expr, ExprError};
use crate::ids::PolicyId;
use crate::skills::SkillRegistry;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One step (ring) of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    pub expr: Expr,
    /// How long the contact stays in this step before the next one applies.
    /// `None` only on the last step.
    pub wait: Option<Duration>,
    /// Skip this step at once when no logged-in agent of the queue satisfies it.
    pub skip_if_unstaffed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub id: PolicyId,
    pub steps: Vec<Step>,
}

impl Policy {
    /// One step that every agent of the queue satisfies.
    pub fn anyone(id: PolicyId) -> Self {
        Policy { id, steps: vec![Step { expr: Expr::always(), wait: None, skip_if_unstaffed: false }] }
    }
}

/// The stored and configured form of a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    pub expr: String,
    #[serde(
        default,
        with = "crate::serde_secs::option",
        skip_serializing_if = "Option::is_none",
        rename = "wait_seconds"
    )]
    pub wait: Option<Duration>,
    #[serde(default)]
    pub skip_if_unstaffed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a policy needs at least one step")]
    NoSteps,
    #[error("step {step}: {source}")]
    Expr { step: usize, source: ExprError },
    #[error("step {step}: every step but the last needs wait_seconds, or the steps after it are never reached")]
    MissingWait { step: usize },
    #[error("step {step}: the last step applies for ever, so wait_seconds has no meaning there")]
    WaitOnLast { step: usize },
}

impl PolicyError {
    /// The 1-based step the error is about, if any.
    pub fn step(&self) -> Option<usize> {
        match self {
            PolicyError::NoSteps => None,
            PolicyError::Expr { step, .. } | PolicyError::MissingWait { step } | PolicyError::WaitOnLast { step } => {
                Some(*step)
            }
        }
    }
}

/// Parses and checks step specs (steps are numbered from 1 in errors).
pub fn compile(id: PolicyId, specs: &[StepSpec], skills: &SkillRegistry) -> Result<Policy, PolicyError> {
    compile_with(id, specs, skills, Expr::parse)
}

/// Compiles a policy that was checked when it was saved, by rules that may
/// since have grown stricter (see [`Expr::parse_saved`]).
pub fn compile_saved(id: PolicyId, specs: &[StepSpec], skills: &SkillRegistry) -> Result<Policy, PolicyError> {
    compile_with(id, specs, skills, Expr::parse_saved)
}

fn compile_with(
    id: PolicyId,
    specs: &[StepSpec],
    skills: &SkillRegistry,
    parse: fn(&str, &SkillRegistry) -> Result<Expr, ExprError>,
) -> Result<Policy, PolicyError> {
    if specs.is_empty() {
        return Err(PolicyError::NoSteps);
    }
    let last = specs.len() - 1;
    let steps = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let step = i + 1;
            let expr = parse(&s.expr, skills).map_err(|source| PolicyError::Expr { step, source })?;
            match (i == last, s.wait) {
                (false, None) => Err(PolicyError::MissingWait { step }),
                (true, Some(_)) => Err(PolicyError::WaitOnLast { step }),
                _ => Ok(Step { expr, wait: s.wait, skip_if_unstaffed: s.skip_if_unstaffed }),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Policy { id, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(expr: &str, wait: Option<u64>) -> StepSpec {
        StepSpec { expr: expr.into(), wait: wait.map(Duration::from_secs), skip_if_unstaffed: false }
    }

    #[test]
    fn compiles_and_names_the_bad_step() {
        let mut skills = SkillRegistry::new();
        skills.intern("billing");
        let ok = compile(PolicyId(1), &[spec("billing >= 7", Some(30)), spec("billing >= 3", None)], &skills).unwrap();
        assert_eq!(ok.steps.len(), 2);
        let err = compile(PolicyId(1), &[spec("billing >= 7", Some(30)), spec("biling", None)], &skills).unwrap_err();
        assert_eq!(err.step(), Some(2));
        assert!(err.to_string().contains("unknown skill 'biling'"), "{err}");
        assert_eq!(
            compile(PolicyId(1), &[spec("true", None), spec("true", None)], &skills).unwrap_err(),
            PolicyError::MissingWait { step: 1 }
        );
        assert_eq!(
            compile(PolicyId(1), &[spec("true", Some(3))], &skills).unwrap_err(),
            PolicyError::WaitOnLast { step: 1 }
        );
        assert_eq!(compile(PolicyId(1), &[], &skills).unwrap_err(), PolicyError::NoSteps);
    }
}
