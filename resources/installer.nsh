; Hearth's part of electron-builder's NSIS installer (it includes resources/installer.nsh).
; "Start Hearth when I log in" is the owner's choice, made in Hearth (electron/shell/
; login-item.ts), and Electron keeps it as a Run value named after the AppUserModelID, the
; APP_ID electron-builder defines here from electron/shell/app-id.ts. Removing Hearth takes
; that value with it, or Windows would try to start a program that is gone at every login;
; an update (which removes the old version first) leaves it, so the choice survives.
!macro customUnInstall
  ${ifNot} ${isUpdated}
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "${APP_ID}"
    DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run" "${APP_ID}"
  ${endIf}
!macroend
