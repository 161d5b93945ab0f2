"""Running a benchmark run's jobs: planning (``plan``), the job function (``job``), and
the three ways of running them (``in_process``, ``local_workers``, ``rq``)."""
