"""The parts of the language server that know the protocol: conversions, features, state.

`fmperf_ls.server` wires them to pygls; everything below the `lsp` package stays
free of the protocol, so the CLI and the tests can use the engine directly.
"""
