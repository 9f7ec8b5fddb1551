const { installWx, restoreWx } = require('./helpers/fake-wx')

beforeEach(() => {
  jest.resetModules()
  installWx()
})
afterEach(restoreWx)

test('times are shown in Asia/Shanghai whatever offset they carry', () => {
  const { formatTime } = require('../utils/format')
  expect(formatTime('2027-06-01T02:30:00+00:00')).toBe('2027-06-01 10:30')
  expect(formatTime('2027-06-01T10:30:00+08:00')).toBe('2027-06-01 10:30')
  expect(formatTime('2027-06-30T20:00:00-04:00')).toBe('2027-07-01 08:00')
  expect(formatTime(null)).toBe('')
  expect(formatTime('not a time')).toBe('not a time')
})

test('money strings are shown as they came, in yuan', () => {
  const { formatMoney } = require('../utils/format')
  expect(formatMoney('12.50')).toBe('¥12.50')
  expect(formatMoney('0.00')).toBe('¥0.00')
  expect(formatMoney(null)).toBe('—')
})

test('an unknown item status is shown as unavailable, never as passed', () => {
  const { statusView } = require('../utils/present/status')
  expect(statusView('passed')).toEqual({ status: 'passed', cls: 'passed', label: '通过' })
  expect(statusView('not_passed')).toEqual({ status: 'not_passed', cls: 'not-passed', label: '未通过' })
  expect(statusView('something_new')).toEqual({ status: 'unavailable', cls: 'unavailable', label: '暂不可查' })
})

test('the landing page follows binding and staff role', () => {
  const { landingPage, isStaff } = require('../utils/auth')
  expect(landingPage({ bound: false })).toBe('/pages/bind/index')
  expect(landingPage({ bound: true, student: { name: 'x' } })).toBe('/pages/home/index')
  expect(landingPage({ bound: true, student: null, staff: { role: 'counter' } })).toBe('/pages/counter/index')
  expect(landingPage({ bound: true, student: null, staff: { role: 'admin' } })).toBe('/pages/counter/index')
  expect(isStaff({ staff: { role: 'library' } })).toBe(false)
  expect(isStaff({ staff: null })).toBe(false)
})
