"""The live web dashboard of a search directory (`autokeras-nas dashboard`).

Importing this package imports neither TensorFlow nor the web server: the
server (Starlette, uvicorn) is imported when it starts, from the
`dashboard` extra.
"""
