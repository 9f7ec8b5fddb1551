// Reads word tables (dicts of code → (Chinese, English)) from the server's Python source without importing it:
// python3's ast finds the top-level assignment and evaluates its literal, so no server dependency is needed.
const { spawnSync } = require('child_process')
const path = require('path')

const REPO = path.join(__dirname, '..', '..', '..')

const SCRIPT = `
import ast, json, sys
path, names = sys.argv[1], sys.argv[2:]
tree = ast.parse(open(path, encoding="utf-8").read(), path)
found = {}
for node in tree.body:
    target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
    if isinstance(target, ast.Name) and target.id in names and node.value is not None:
        found[target.id] = ast.literal_eval(node.value)
missing = [n for n in names if n not in found]
if missing:
    sys.exit("not a literal top-level assignment in %s: %s" % (path, ", ".join(missing)))
json.dump(found, sys.stdout, ensure_ascii=False)
`

// serverTables('server/vocabulary.py', ['DEGREE_LABELS']) → {DEGREE_LABELS: {master: ['硕士研究生', "Master's"], ...}}
function serverTables(relPath, names) {
  const run = spawnSync(process.env.PYTHON || 'python3', ['-c', SCRIPT, path.join(REPO, relPath), ...names], {
    encoding: 'utf8',
  })
  if (run.error) throw new Error(`cannot run python3 to read ${relPath}: ${run.error.message}`)
  if (run.status !== 0) throw new Error(`reading ${relPath}: ${run.stderr.trim()}`)
  return JSON.parse(run.stdout)
}

module.exports = { serverTables, REPO }
