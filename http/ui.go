package http

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// uiCSP allows only this origin's scripts, styles (inline ones too, which
// chart libraries set), images and connections, and no framing.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"

const placeholderPage = `<!doctype html><html><head><meta charset="utf-8"><title>expt-logger</title></head>
<body><h1>expt-logger</h1><p>The API is at <code>/api</code>. This server was built without the web UI.</p></body></html>
`

// serveUI serves the built UI's files; any other path gets index.html so
// that the client-side router can show /experiments/{id}.
func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if s.ui == nil {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		io.WriteString(w, placeholderPage)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name != "" && name != "index.html" {
		if s.serveFile(w, r, name) {
			return
		}
		if strings.HasPrefix(name, "assets/") {
			// A missing hashed asset is an old page asking for a file that a
			// new build replaced; index.html would only confuse it.
			http.NotFound(w, r)
			return
		}
	}
	h.Set("Cache-Control", "no-cache")
	if !s.serveFile(w, r, "index.html") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, placeholderPage)
	}
}

// serveFile serves one regular file of the UI; false when there is none.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := s.ui.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return false
	}
	if strings.HasPrefix(name, "assets/") {
		// Vite puts a content hash in every asset's name.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(w, r, name, modTime(st), rs)
		return true
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, fs.ErrClosed) {
		return false
	}
	http.ServeContent(w, r, name, modTime(st), strings.NewReader(string(b)))
	return true
}

func modTime(st fs.FileInfo) time.Time { return st.ModTime() }
