//! Subcommands whose arguments clap defines only when they are the one given.
//!
//! clap's derive defines every subcommand's arguments (hundreds of them, with their help) before
//! it parses anything: 0.45 ms of the 9 ms `lossatlas contour` takes to draw figure 1, a cost
//! that grows with every option any command gains. [`Deferred`] hands each subcommand's
//! definition to clap's `Command::defer`, which runs it when that subcommand is parsed, shown in
//! help or completed. The nested commands (`net ...`, `store ...`) are defined at once, each
//! with deferred arguments: clap's `help` command, and so completion, needs their names.
//!
//! Why not the derive's own `#[command(defer = true)]`: it lets the doc comments of the argument
//! structs (and of the structs flattened into them) replace the subcommand's description when
//! the arguments are defined, so `lossatlas contour --help` would open with "Where a command's
//! grid is computed". Here the description the variant gave is put back.

use std::ops::Deref;

use clap::{ArgMatches, Args, FromArgMatches};

/// The arguments `T` of one subcommand, defined only when that subcommand is used. Reads as a
/// `T` wherever a `&T` is expected.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T> Deref for Deferred<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_description(cmd, T::augment_args))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| keeping_description(cmd, T::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// `cmd` with `define` applied, and with the description (about and long about) `cmd` had
/// before, if it had one: the variant's, which clap set when it made the subcommand.
fn keeping_description(cmd: clap::Command, define: fn(clap::Command) -> clap::Command) -> clap::Command {
    let (about, long_about) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
    let defined = define(cmd);
    let Some(about) = about else { return defined };
    let defined = defined.about(about);
    match long_about {
        Some(long_about) => defined.long_about(long_about),
        None => defined.long_about(clap::builder::Resettable::Reset),
    }
}
