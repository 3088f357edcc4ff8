//! The processes of one run: just this one, or, in a build with the `mpi` feature started by
//! `mpirun` (or `srun`), the ranks of an MPI job, which share a landscape store's chunks. Rank 0
//! creates the store, reports progress and draws; the others only compute.
//!
//! MPI is started only when a launcher's environment says this process is one of several ranks,
//! so the same binary runs by hand or under a scheduler without MPI in the way.

use std::sync::OnceLock;

/// This process's place in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranks {
    /// This process, from 0.
    pub rank: usize,
    /// How many processes share the work.
    pub size: usize,
}

static RANKS: OnceLock<Ranks> = OnceLock::new();

/// Keeps MPI running until it is dropped (at the end of `main`), which finalizes it.
pub struct Session {
    #[cfg(feature = "mpi")]
    _universe: Option<mpi::environment::Universe>,
}

/// Starts MPI when the process was launched as a rank of an MPI job (a build with the `mpi`
/// feature); otherwise the run is one process.
pub fn start() -> Session {
    #[cfg(feature = "mpi")]
    {
        // The variables Open MPI's mpirun, MPICH's Hydra and Slurm's PMI/PMIx set for each rank.
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if launched {
            use mpi::traits::Communicator;
            if let Some(universe) = mpi::initialize() {
                let world = universe.world();
                let ranks = Ranks { rank: world.rank() as usize, size: world.size() as usize };
                let _ = RANKS.set(ranks);
                return Session { _universe: Some(universe) };
            }
        }
        Session { _universe: None }
    }
    #[cfg(not(feature = "mpi"))]
    Session {}
}

/// This process's rank and the number of ranks (0 of 1 outside MPI).
pub fn current() -> Ranks {
    RANKS.get().copied().unwrap_or(Ranks { rank: 0, size: 1 })
}

impl Ranks {
    /// Whether this process reports and draws (rank 0, or the only process).
    pub fn leads(&self) -> bool {
        self.rank == 0
    }

    /// Waits for every rank and tells whether all of them are `ok`: the point where ranks agree
    /// before going on, so that one rank's failure stops the others instead of leaving them
    /// waiting for it.
    pub fn all_ok(&self, ok: bool) -> bool {
        #[cfg(feature = "mpi")]
        if self.size > 1 {
            use mpi::collective::SystemOperation;
            use mpi::traits::CommunicatorCollectives;
            let mine = i32::from(ok);
            let mut all = 0i32;
            mpi::topology::SimpleCommunicator::world().all_reduce_into(
                &mine,
                &mut all,
                SystemOperation::min(),
            );
            return all == 1;
        }
        ok
    }

    /// `n` summed over the ranks (every rank gets the sum).
    pub fn sum(&self, n: usize) -> usize {
        #[cfg(feature = "mpi")]
        if self.size > 1 {
            use mpi::collective::SystemOperation;
            use mpi::traits::CommunicatorCollectives;
            let mine = n as u64;
            let mut all = 0u64;
            mpi::topology::SimpleCommunicator::world().all_reduce_into(
                &mine,
                &mut all,
                SystemOperation::sum(),
            );
            return all as usize;
        }
        n
    }
}
