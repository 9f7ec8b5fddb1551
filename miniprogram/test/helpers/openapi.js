// Compares utils/contract.js with an OpenAPI 3.x document without relying on schema names:
// property names are collected from every schema, enum/const values from anywhere in the document.

function walk(node, visit) {
  if (Array.isArray(node)) {
    node.forEach((child) => walk(child, visit))
  } else if (node && typeof node === 'object') {
    visit(node)
    Object.values(node).forEach((child) => walk(child, visit))
  }
}

function collect(doc) {
  const properties = new Set()
  const enumValues = new Set()
  walk(doc, (node) => {
    if (node.properties && typeof node.properties === 'object' && !Array.isArray(node.properties)) {
      Object.keys(node.properties).forEach((name) => properties.add(name))
    }
    if (Array.isArray(node.enum)) node.enum.forEach((v) => enumValues.add(v))
    if (Object.prototype.hasOwnProperty.call(node, 'const') && typeof node.const !== 'object') enumValues.add(node.const)
  })
  const schemas = (doc.components && doc.components.schemas) || {}
  const errorCodeSchema = schemas.ErrorCode
  const errorCodes = errorCodeSchema && Array.isArray(errorCodeSchema.enum) ? new Set(errorCodeSchema.enum) : null
  return { properties, enumValues, errorCodes }
}

// "/api/v1/me/clearance" may be listed as is or relative to a server URL such as "/api/v1".
function hasOperation(doc, method, path) {
  const paths = doc.paths || {}
  const prefixes = ['']
  for (const server of doc.servers || []) {
    const m = /^(?:https?:\/\/[^/]+)?(\/.*?)\/?$/.exec(server.url || '')
    if (m && m[1] !== '/') prefixes.push(m[1])
  }
  return prefixes.some((prefix) => {
    if (prefix && !path.startsWith(prefix)) return false
    const entry = paths[path.slice(prefix.length)]
    return Boolean(entry && entry[method.toLowerCase()])
  })
}

function missingFields(found, groups) {
  const out = []
  for (const [group, names] of Object.entries(groups)) {
    for (const name of names) {
      if (!found.properties.has(name)) out.push(`field "${name}" (${group}) is not a property of any schema`)
    }
  }
  return out
}

function missingValues(found, groups) {
  const out = []
  for (const [group, values] of Object.entries(groups)) {
    for (const value of values) {
      if (!found.enumValues.has(value)) out.push(`value "${value}" (${group}) is in no enum`)
    }
  }
  return out
}

// Everything in the contract module that the document does not have, as readable lines.
function problems(doc, contract) {
  const found = collect(doc)
  const out = missingFields(found, contract.FIELDS).concat(missingValues(found, contract.ENUMS))
  const codes = found.errorCodes || found.enumValues
  const where = found.errorCodes ? 'components.schemas.ErrorCode.enum' : 'any enum (no ErrorCode schema)'
  for (const code of Object.keys(contract.ERROR_CODES)) {
    if (!codes.has(code)) out.push(`error code "${code}" is not in ${where}`)
  }
  for (const [name, ep] of Object.entries(contract.ENDPOINTS)) {
    if (!hasOperation(doc, ep.method, ep.path)) out.push(`endpoint ${name}: ${ep.method} ${ep.path} is not in paths`)
  }
  return out
}

// Server error codes the app has no own text for (it still shows the server's message for them).
function unknownServerCodes(doc, contract) {
  const found = collect(doc)
  if (!found.errorCodes) return []
  return [...found.errorCodes].filter((code) => !Object.prototype.hasOwnProperty.call(contract.ERROR_CODES, code))
}

module.exports = { collect, problems, hasOperation, unknownServerCodes }

// Where `value` differs from the document's schema `name`: a wrong type, a value outside an enum, a required property
// missing, or a property the schema does not have (a test fixture must be what the server sends, no more). Covers the
// JSON Schema the server's OpenAPI document uses: $ref, type, enum, const, anyOf/oneOf, properties, required, items.
function schemaProblems(doc, name, value) {
  const schemas = (doc.components && doc.components.schemas) || {}
  if (!schemas[name]) return [`no schema ${name} in components.schemas`]
  return check(schemas, schemas[name], value, name)
}

function resolve(schemas, schema) {
  let node = schema
  while (node && node.$ref) node = schemas[node.$ref.replace('#/components/schemas/', '')]
  return node || {}
}

function typeOf(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Number.isInteger(value)) return 'integer'
  return typeof value
}

function typeMatches(expected, value) {
  const actual = typeOf(value)
  return expected === actual || (expected === 'number' && actual === 'integer')
}

function check(schemas, schema, value, where) {
  const s = resolve(schemas, schema)
  const choices = s.anyOf || s.oneOf
  if (choices) {
    const fits = choices.some((choice) => check(schemas, choice, value, where).length === 0)
    return fits ? [] : [`${where}: ${JSON.stringify(value)} matches none of its schemas`]
  }
  if (s.type && !typeMatches(s.type, value)) return [`${where}: ${typeOf(value)}, not ${s.type}`]
  if (s.enum && !s.enum.includes(value)) return [`${where}: ${JSON.stringify(value)} is not one of ${s.enum.join(', ')}`]
  if (Object.prototype.hasOwnProperty.call(s, 'const') && s.const !== value) return [`${where}: not ${s.const}`]
  if (typeOf(value) === 'array' && s.items) {
    return value.flatMap((item, i) => check(schemas, s.items, item, `${where}[${i}]`))
  }
  if (typeOf(value) !== 'object' || !s.properties) return []
  const out = (s.required || []).filter((key) => !(key in value)).map((key) => `${where}.${key}: missing`)
  for (const [key, item] of Object.entries(value)) {
    if (!(key in s.properties)) {
      if (s.additionalProperties !== true) out.push(`${where}.${key}: not in the schema`)
    } else {
      out.push(...check(schemas, s.properties[key], item, `${where}.${key}`))
    }
  }
  return out
}

module.exports.schemaProblems = schemaProblems
