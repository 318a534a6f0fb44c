//! The one place exit codes are chosen: 0 success / no changes, 1 error, 2 changes present.

use std::process::ExitCode;

/// What a command ended with.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Success; for plan and drift: nothing to change.
    Success,
    /// plan / drift: there are changes.
    Changes,
    /// An error the command already reported (diagnostics, invalid topology).
    Failed,
    /// An error to report here.
    Error(miette::Report),
}

pub(crate) fn finish(outcome: Outcome) -> ExitCode {
    crate::timings::phase("command done");
    match outcome {
        Outcome::Success => ExitCode::SUCCESS,
        Outcome::Changes => ExitCode::from(2),
        Outcome::Failed => ExitCode::from(1),
        Outcome::Error(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}
