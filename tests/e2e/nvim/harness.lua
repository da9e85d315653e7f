-- A headless Neovim 0.7 session that uses fmperf-ls the way a user would.
--
-- Started by tests/e2e/test_neovim.py as `nvim --headless -u harness.lua FILE`.
-- It starts the server with the built-in client (0.7 has start_client, not
-- vim.lsp.start), waits for the expected diagnostic, hovers on it, applies the
-- preferred quick fix, writes the file and waits for the finding to go away.
-- Everything it saw goes to $FMPERF_RESULT as JSON; the exit status is the
-- verdict (0 passed, 1 failed).

local report = {}

local function env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("harness: $" .. name .. " is not set")
  end
  return value
end

local function finish(ok, message)
  report.ok = ok
  report.message = message
  local file = io.open(env("FMPERF_RESULT"), "w")
  file:write(vim.fn.json_encode(report))
  file:close()
  if ok then
    vim.cmd("qall!")
  else
    vim.cmd("cquit 1")
  end
end

local function find_diagnostic(bufnr, code, line)
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    if diagnostic.code == code and (line == nil or diagnostic.lnum == line) then
      return diagnostic
    end
  end
  return nil
end

-- 0.7 keeps neither range nor message in user_data.lsp: rebuild the LSP form.
local function to_lsp(diagnostic)
  return {
    range = {
      start = { line = diagnostic.lnum, character = diagnostic.col },
      ["end"] = { line = diagnostic.end_lnum, character = diagnostic.end_col },
    },
    message = diagnostic.message,
    code = diagnostic.code,
    source = diagnostic.source,
    severity = diagnostic.severity,
  }
end

local function request(bufnr, method, params)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, 10000)
  if responses == nil then
    error(method .. " failed: " .. tostring(err))
  end
  for _, response in pairs(responses) do
    if response.error ~= nil then
      error(method .. " error: " .. vim.inspect(response.error))
    end
    return response.result
  end
  return nil
end

local function hover(bufnr, diagnostic, code)
  local result = request(bufnr, "textDocument/hover", {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    position = { line = diagnostic.lnum, character = diagnostic.col },
  })
  if result == nil or result.contents == nil then
    error("no hover on the " .. code .. " diagnostic")
  end
  report.hover = result.contents.value
  if not string.find(report.hover, code, 1, true) then
    error("the hover does not name " .. code)
  end
end

local function preferred_fix(bufnr, diagnostic)
  local lsp_diagnostic = to_lsp(diagnostic)
  local actions = request(bufnr, "textDocument/codeAction", {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = lsp_diagnostic.range,
    context = { diagnostics = { lsp_diagnostic }, only = { "quickfix" } },
  }) or {}
  report.actions = {}
  local chosen = nil
  for _, action in ipairs(actions) do
    table.insert(report.actions, action.title)
    if action.isPreferred and action.edit ~= nil and chosen == nil then
      chosen = action
    end
  end
  if chosen == nil then
    error("no preferred quick fix among " .. vim.inspect(report.actions))
  end
  return chosen
end

local function run()
  local bufnr = vim.api.nvim_get_current_buf()
  local code = env("FMPERF_EXPECT_CODE")
  local client_id = vim.lsp.start_client({
    name = "fmperf",
    cmd = vim.fn.json_decode(env("FMPERF_LS_CMD")),
    root_dir = env("FMPERF_ROOT"),
    init_options = { debounceMs = 50 },
  })
  if client_id == nil then
    return finish(false, "the server did not start")
  end
  vim.lsp.buf_attach_client(bufnr, client_id)

  local diagnostic = nil
  vim.wait(30000, function()
    diagnostic = find_diagnostic(bufnr, code, nil)
    return diagnostic ~= nil
  end, 50)
  if diagnostic == nil then
    return finish(false, "no " .. code .. " diagnostic arrived")
  end
  report.diagnostic = { line = diagnostic.lnum, col = diagnostic.col, message = diagnostic.message }

  hover(bufnr, diagnostic, code)
  local action = preferred_fix(bufnr, diagnostic)
  report.applied = action.title
  vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
  vim.cmd("write")

  local line = diagnostic.lnum
  report.gone = vim.wait(30000, function()
    return find_diagnostic(bufnr, code, line) == nil
  end, 50)
  if not report.gone then
    return finish(false, "the diagnostic stayed after the fix")
  end
  finish(true, "fixed")
end

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local ok, err = pcall(run)
      if not ok then
        finish(false, tostring(err))
      end
    end)
  end,
})
