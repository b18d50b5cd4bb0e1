"""The `wildrydes` command (``app.py``): the one package that uses both the local AWS runtime (``localaws``)
and the rest of ``infra``, so that neither has to import the other. One module per command group."""
