"""Pictures drawn offline with matplotlib: a choropleth of France by department, one
department with its communes as points, and monthly charts.

Department outlines: IGN ADMIN EXPRESS COG 2018, vendored in ``data/`` (see
``data/README.md``); commune centroids from :mod:`app.geo`.
"""
