"""`wildrydes local up`'s process management: what to start (``services``), checks before starting
(``preflight``), keeping it running (``supervisor``), stopping it whatever happens (``lifeline``,
``processes``), and what `local status` reports (``status_report``)."""
