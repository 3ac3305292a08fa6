using System.Text;
using Vlm2Vec.Hub;

namespace Vlm2Vec.Core.Tests.Hub;

public sealed class BlobHasherTests
{
    [Theory]
    [InlineData("hello\n", "ce013625030ba8dba906f756967f9e9ca394464a")] // `git hash-object` of "hello\n"
    [InlineData("", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")] // git's empty blob
    public void A_40_hex_etag_is_checked_as_a_git_blob_sha1(string content, string etag)
    {
        var bytes = Encoding.ASCII.GetBytes(content);
        using var hasher = BlobHasher.ForEtag(etag, bytes.Length)!;

        hasher.Append(bytes);

        Assert.True(hasher.Verify(out var actual));
        Assert.Equal(etag, actual);
    }

    [Fact]
    public void A_64_hex_etag_is_checked_as_sha256_and_reset_forgets_earlier_bytes()
    {
        using var hasher = BlobHasher.ForEtag("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 3)!;

        hasher.Append("zzz"u8);
        hasher.Reset();
        hasher.Append("ab"u8);
        hasher.Append("c"u8);

        Assert.True(hasher.Verify(out _));
        hasher.Append("abd"u8);
        Assert.False(hasher.Verify(out var wrong));
        Assert.Equal(64, wrong.Length);
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("0123")]
    [InlineData("zz3625030ba8dba906f756967f9e9ca394464a00")]
    public void Other_etags_cannot_be_checked(string etag) => Assert.Null(BlobHasher.ForEtag(etag, 1));
}
