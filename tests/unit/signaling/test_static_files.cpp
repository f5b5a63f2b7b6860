// Static file resolution: index.html, content types, and every way out of the root refused.
#include "signaling/static_files.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using rc::signaling::StaticFiles;
namespace fs = std::filesystem;

namespace {

struct Site
{
    fs::path base;
    Site()
    {
        char tmpl[] = "/tmp/roomcast-static-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        base = tmpl;
        write("root/index.html", "<html>");
        write("root/app.js", "js");
        write("root/sub/index.html", "<html>");
        write("root/sub/page.css", "css");
        write("root/.hidden.html", "no");
        write("root/data.bin", "no type");
        write("root/a b.json", "{}");
        write("secret.html", "outside");
        fs::create_directory_symlink(base, base / "root" / "up");
        fs::create_symlink(base / "secret.html", base / "root" / "link.html");
        fs::create_directories(base / "root" / "empty");
    }
    ~Site() { fs::remove_all(base); }
    void write(const std::string &rel, const std::string &content) const
    {
        fs::create_directories((base / rel).parent_path());
        std::ofstream(base / rel) << content;
    }
    std::string root() const { return (base / "root").string(); }
};

} // namespace

TEST_CASE("content types by extension, case-insensitive, unknown ones refused")
{
    CHECK(std::string(StaticFiles::contentTypeFor("index.html")) == "text/html; charset=utf-8");
    CHECK(std::string(StaticFiles::contentTypeFor("INDEX.HTML")) == "text/html; charset=utf-8");
    CHECK(std::string(StaticFiles::contentTypeFor("a.js")) == "text/javascript; charset=utf-8");
    CHECK(std::string(StaticFiles::contentTypeFor("a.css")) == "text/css; charset=utf-8");
    CHECK(std::string(StaticFiles::contentTypeFor("a.svg")) == "image/svg+xml");
    CHECK(std::string(StaticFiles::contentTypeFor("a.json")) == "application/json");
    CHECK(std::string(StaticFiles::contentTypeFor("a.js.map")) == "application/json");
    CHECK(std::string(StaticFiles::contentTypeFor("a.png")) == "image/png");
    CHECK(std::string(StaticFiles::contentTypeFor("favicon.ico")) == "image/x-icon");
    CHECK(std::string(StaticFiles::contentTypeFor("m.wasm")) == "application/wasm");
    CHECK(StaticFiles::contentTypeFor("README") == nullptr);
    CHECK(StaticFiles::contentTypeFor("x.exe") == nullptr);
    CHECK(StaticFiles::contentTypeFor("x.jsx") == nullptr);
    CHECK(StaticFiles::contentTypeFor("x.j") == nullptr);
}

TEST_CASE("paths inside the root resolve, directories mean index.html")
{
    Site site;
    StaticFiles files(site.root());
    auto f = files.resolve("/");
    REQUIRE(f);
    CHECK(f->path == fs::canonical(site.root() + "/index.html").string());
    CHECK(files.resolve("/index.html"));
    CHECK(files.resolve("//app.js"));
    CHECK(files.resolve("/sub"));
    CHECK(files.resolve("/sub/"));
    CHECK(files.resolve("/sub/page.css"));
    CHECK(files.resolve("/a%20b.json"));
    CHECK(std::string(files.resolve("/app.js")->contentType) == "text/javascript; charset=utf-8");
}

TEST_CASE("nothing outside the root, no dot files, no unknown types")
{
    Site site;
    StaticFiles files(site.root());
    for (const char *p : { "", "index.html", "/../secret.html", "/sub/../../secret.html",
             "/%2e%2e/secret.html", "/sub/%2E%2E/%2e%2e/secret.html", "/..%2fsecret.html",
             "/sub%2f..%2f..%2fsecret.html", "/up/secret.html", "/link.html", "/.hidden.html",
             "/./index.html", "/data.bin", "/missing.html", "/empty", "/empty/",
             "/index.html%00.png", "/%", "/%zz", "/sub\\..\\..\\secret.html" }) {
        INFO(p);
        CHECK_FALSE(files.resolve(p));
    }
}
