"""The Mesa browser view (``adoptsim viz``): a SolaraViz page running the reference engine.

Modules, lightest first (importing this package imports none of them):

* :mod:`sim.viz.layout`  the fixed structural layout of an org (computed once per org)
* :mod:`sim.viz.draw`    network painter (static edges blitted once) and plot figures
* :mod:`sim.viz.model`   the model factory: scenario + plan + parameter overrides
* :mod:`sim.viz.app`     the Solara page (run by ``solara run sim.viz.app``)
* :mod:`sim.viz.assets`  Solara's front-end files filled from npm so the page works offline
* :mod:`sim.viz.serve`   environment and command line that start the server
* :mod:`sim.viz.bench`   steps/s of a step plus a full redraw, and of the page in Chromium
"""
