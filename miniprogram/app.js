// Pages are built with Component() (WeChat supports it) so that miniprogram-simulate can test them;
// all shared state lives in plain modules under utils/, not in getApp().
App({})
