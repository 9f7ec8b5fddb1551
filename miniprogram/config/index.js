// Per-environment settings, chosen by wx.getAccountInfoSync().miniProgram.envVersion (see utils/env.js).
// Replace the trial/release placeholders with the university's HTTPS domains (also list them as
// request and business domains in the mini-program console), and set helpPhone to the server's
// LIXIAO_HELP_PHONE: the graduate school's help line, shown where a student is stuck (a revoked certificate).
// An empty helpPhone shows no number at all, never a made-up one.
module.exports = {
  develop: {
    apiBase: 'http://127.0.0.1:8000',
    // `make demo` runs the WeChat emulator here; in develop the login code is minted by its control API
    // because the real wx.login code of a placeholder appid means nothing to the emulator.
    emulatorBase: 'http://127.0.0.1:8001',
    devOpenid: 'o_devtools_student',
    helpPhone: '0516-00000000', // the server's default LIXIAO_HELP_PHONE
  },
  trial: {
    apiBase: 'https://lixiao-trial.example.com',
    helpPhone: '',
  },
  release: {
    apiBase: 'https://lixiao.example.com',
    helpPhone: '',
  },
}
