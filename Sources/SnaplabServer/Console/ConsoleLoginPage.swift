/// The sign-in form shown instead of the control screen when the server has access keys and the browser has no
/// session. The password goes as JSON to `/api/login`, which answers with the session cookie.
enum ConsoleLoginPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Snaplab sign-in</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 3em auto; max-width: 22em; color: #222; }
          input, button { font-size: 1em; padding: 0.3em; margin-top: 0.5em; width: 100%; }
          #message { min-height: 1.4em; color: #b00020; margin-top: 0.8em; }
        </style>
        </head>
        <body>
        <h1>Snaplab</h1>
        <form id="login">
          <label for="password">Console password</label>
          <input id="password" type="password" autocomplete="current-password" autofocus>
          <button id="sign-in" type="submit">Sign in</button>
        </form>
        <div id="message"></div>
        <script>
        document.getElementById("login").addEventListener("submit", async (event) => {
          event.preventDefault();
          const response = await fetch("/api/login", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({password: document.getElementById("password").value})});
          if (response.ok) { location.reload(); return; }
          const answer = await response.json().catch(() => ({}));
          document.getElementById("message").textContent = answer.error ? answer.error.message : "sign-in failed";
        });
        </script>
        </body>
        </html>
        """#
}
