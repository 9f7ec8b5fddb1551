// Per-environment settings, chosen by wx.getAccountInfoSync().miniProgram.envVersion (see utils/env.js).
// Replace the trial/release placeholders with the university's HTTPS domains (also list them as
// request and business domains in the mini-program console).
module.exports = {
  develop: {
    apiBase: 'http://127.0.0.1:8000',
    // `make demo` runs the WeChat emulator here; in develop the login code is minted by its control API
    // because the real wx.login code of a placeholder appid means nothing to the emulator.
    emulatorBase: 'http://127.0.0.1:8001',
    devOpenid: 'o_devtools_student',
  },
  trial: {
    apiBase: 'https://lixiao-trial.example.com',
  },
  release: {
    apiBase: 'https://lixiao.example.com',
  },
}
