using Diffuse.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Text;

public class ImageCaptionTableTests
{
    static readonly IReadOnlyList<string>[] Captions = [["a red square", "a square in red"], [], ["a blue circle"]];

    static ImageCaptionTable Table() => new(WordTokenizer.Build(Captions.SelectMany(c => c), 8), Captions);

    [Fact]
    public void FixedIsEachImagesFirstCaptionAndAnImageWithoutCaptionsHasTheEmptyOne()
    {
        using var table = Table();
        using var keys = tensor(new long[] { 2, 0, 1 });
        using var ids = table.Fixed(keys);
        Assert.Equal([3L, 8], ids.shape);
        Assert.Equal("a blue circle", table.Tokenizer.Decode(ids[0].data<long>().ToArray()));
        Assert.Equal("a red square", table.Tokenizer.Decode(ids[1].data<long>().ToArray()));
        Assert.Equal(table.Tokenizer.Encode(""), ids[2].data<long>().ToArray());
    }

    [Fact]
    public void DrawsPickOnlyTheImagesOwnCaptionsUniformlyAndASeedFixesThem()
    {
        using var table = Table();
        using var keys = full(4000, 0L, ScalarType.Int64);
        using var g = new Generator(1);
        using var ids = table.Draw(keys, 0, g);
        var rows = Enumerable.Range(0, 4000).Select(i => ids[i].data<long>().ToArray()).ToArray();
        // Word dropout turns some words into [UNK]: compare with [UNK] as a wildcard.
        var first = table.Tokenizer.Encode("a red square");
        var second = table.Tokenizer.Encode("a square in red");
        bool Matches(long[] row, long[] caption) => row.Zip(caption).All(p => p.First == p.Second || (p.First == WordTokenizer.UnknownId && p.Second > WordTokenizer.ClsId));
        int firsts = rows.Count(r => Matches(r, first)), seconds = rows.Count(r => Matches(r, second));
        Assert.Equal(4000, firsts + seconds);
        Assert.InRange(firsts, 1850, 2150);
        int unknown = rows.Sum(r => r.Count(id => id == WordTokenizer.UnknownId));
        Assert.InRange(unknown / (3.5 * 4000), CaptionTable.WordDropout - 0.02, CaptionTable.WordDropout + 0.02);

        using var again = new Generator(1);
        using var same = table.Draw(keys, 0, again);
        Assert.True(ids.equal(same).all().item<bool>());
    }

    [Fact]
    public void CaptionDropoutGivesTheEmptyCaptionAtItsRateAndBadKeysAreRefused()
    {
        using var table = Table();
        using var keys = full(4000, 2L, ScalarType.Int64);
        using var g = new Generator(2);
        using var ids = table.Draw(keys, 0.25, g);
        var empty = table.Tokenizer.Encode("");
        int dropped = Enumerable.Range(0, 4000).Count(i => ids[i].data<long>().ToArray().SequenceEqual(empty));
        Assert.InRange(dropped, 900, 1100);
        using var bad = tensor(new long[] { 0, 3 });
        Assert.Contains("[0, 2]", Assert.Throws<DiffuseException>(() => table.Draw(bad, 0, g)).Message);
        Assert.Throws<DiffuseException>(() => table.Draw(keys, 1.5, g));
    }
}
