// CURVE key files of the edge transport (transport/zmq/curve_keys.h) and `xfed keygen`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/cli_run.h"
#include "tests/test_util.h"
#include "transport/zmq/curve_keys.h"

namespace xfed::transport {
namespace {

using xfed::testing::TempDir;

void write_text(const std::string& path, const std::string& text, std::filesystem::perms perms) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, perms);
}

mode_t mode_of(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST(CurveKeys, AWrittenPairReadsBackAndTheSecretIsOwnerOnly) {
  TempDir dir;
  const auto keys = generate_curve_key_pair().value();
  EXPECT_TRUE(is_z85_key(keys.public_key));
  EXPECT_TRUE(is_z85_key(keys.secret_key));
  EXPECT_NE(keys.public_key, keys.secret_key);
  const auto name = dir.file("node");
  ASSERT_TRUE(write_key_pair(name, keys));
  EXPECT_EQ(mode_of(name + ".key"), 0600u);
  const auto back = read_secret_key_file(name + ".key");
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back.value().secret_key, keys.secret_key);
  EXPECT_EQ(back.value().public_key, keys.public_key) << "derived from the secret key";
  EXPECT_EQ(read_public_key_file(name + ".pub").value(), keys.public_key);
  EXPECT_NE(generate_curve_key_pair().value().secret_key, keys.secret_key);
}

TEST(CurveKeys, AKeyIsNeverReplaced) {
  TempDir dir;
  const auto name = dir.file("node");
  ASSERT_TRUE(write_key_pair(name, generate_curve_key_pair().value()));
  const auto before = read_secret_key_file(name + ".key").value();
  const auto again = write_key_pair(name, generate_curve_key_pair().value());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.code(), StatusCode::kUsage);
  EXPECT_NE(again.message().find("node.key: exists"), std::string::npos) << again.message();
  EXPECT_EQ(read_secret_key_file(name + ".key").value().secret_key, before.secret_key);
  EXPECT_EQ(read_public_key_file(name + ".pub").value(), before.public_key);
}

TEST(CurveKeys, SecretFilesThatOthersCanReadOrThatLieAreRefused) {
  TempDir dir;
  const auto keys = generate_curve_key_pair().value();
  const auto other = generate_curve_key_pair().value();
  const auto path = dir.file("s.key");
  using std::filesystem::perms;
  write_text(path, keys.secret_key + "\n", perms::owner_read | perms::owner_write | perms::group_read);
  auto r = read_secret_key_file(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("chmod 600"), std::string::npos) << r.message();
  write_text(path, "# node 7\n" + keys.secret_key + "\n" + other.public_key + "\n", perms::owner_read | perms::owner_write);
  r = read_secret_key_file(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("s.key:3: this public key does not belong"), std::string::npos) << r.message();
  write_text(path, keys.secret_key.substr(1) + "\n", perms::owner_read | perms::owner_write);
  r = read_secret_key_file(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("s.key:1: not a CURVE key"), std::string::npos) << r.message();
  write_text(path, "# nothing\n\n", perms::owner_read | perms::owner_write);
  EXPECT_FALSE(read_secret_key_file(path));
  EXPECT_FALSE(read_secret_key_file(dir.path())) << "a directory";
}

TEST(CurveKeys, AuthorizedKeysAllowCommentsAndNameTheBadLine) {
  TempDir dir;
  const auto a = generate_curve_key_pair().value().public_key, b = generate_curve_key_pair().value().public_key;
  const auto path = dir.file("authorized");
  using std::filesystem::perms;
  write_text(path, "# edge fleet\n\n  " + a + "   phone of ana\n" + b + "\n" + a + "\n", perms::owner_all);
  const auto keys = read_authorized_keys(path);
  ASSERT_TRUE(keys) << keys.message();
  EXPECT_EQ(keys.value().size(), 2u) << "duplicates count once";
  write_text(path, a + "\n# ok\n" + b.substr(0, 39) + "\n", perms::owner_all);
  auto bad = read_authorized_keys(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("authorized:3: not a CURVE key"), std::string::npos) << bad.message();
  write_text(path, "# nobody yet\n", perms::owner_all);
  bad = read_authorized_keys(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("no keys"), std::string::npos) << bad.message();
  EXPECT_FALSE(read_authorized_keys(dir.file("missing")));
}

TEST(CurveKeys, Z85KeysAreFortyCharactersOfTheAlphabet) {
  const auto key = generate_curve_key_pair().value().public_key;
  EXPECT_TRUE(is_z85_key(key));
  EXPECT_FALSE(is_z85_key(key + "0"));
  EXPECT_FALSE(is_z85_key(key.substr(0, 39)));
  EXPECT_FALSE(is_z85_key(std::string(40, ' ')));
  EXPECT_FALSE(is_z85_key(std::string(40, '"')));
  EXPECT_FALSE(is_z85_key(std::string(40, '#'))) << "each 5-character group above 2^32";
}

TEST(Keygen, WritesAPairOnceAndRefusesToReplaceIt) {
  TempDir dir;
  const auto name = dir.file("edge1");
  auto r = xfed::testing::xfed("keygen --out " + name);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto pub = read_public_key_file(name + ".pub").value();
  EXPECT_NE(r.out.find("public key: " + pub), std::string::npos) << r.out;
  EXPECT_EQ(read_secret_key_file(name + ".key").value().public_key, pub);
  xfed::testing::expect_usage_error("keygen --out " + name, "edge1.key: exists");
  xfed::testing::expect_usage_error("keygen --out " + dir.file("no/such/dir/k"), "k.key");
}

}  // namespace
}  // namespace xfed::transport
