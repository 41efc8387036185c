using Diffuse.Text;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Text;

public class CaptionTemplatesTests
{
    static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    static readonly string[] Fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    [Fact]
    public void DigitCaptionsUseNumberWordsAndNumerals()
    {
        var captions = CaptionTemplates.For(Digits);
        Assert.Equal(10, captions.Length);
        Assert.All(captions, c => Assert.Equal(captions[0].Length, c.Length));
        Assert.Contains("a handwritten seven", captions[7]);
        Assert.Contains("the digit 7", captions[7]);
        Assert.Contains(captions[7], c => c.Contains("seven", StringComparison.Ordinal));
        Assert.Contains(captions[7], c => c.Contains('7'));
        Assert.All(captions[7], c => Assert.True(c.Contains("seven", StringComparison.Ordinal) ^ c.Contains('7'), c));
    }

    [Fact]
    public void OtherClassNamesGetPhotoCaptionsWithTheirArticle()
    {
        var captions = CaptionTemplates.For(Fashion);
        Assert.Contains("a photo of an ankle boot", captions[9]);
        Assert.Contains("a photo of a sneaker", captions[7]);
        Assert.All(captions[9], c => Assert.Contains("ankle boot", c));
        Assert.False(CaptionTemplates.AreDigits(["0", "1", "2", "3"]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HeldOutWordingsAreNoTrainingCaptionAndNameTheirClass(bool digits)
    {
        var names = digits ? Digits : Fashion;
        var training = CaptionTemplates.For(names).SelectMany(c => c).ToHashSet();
        var heldOut = CaptionTemplates.HeldOut(names);
        Assert.All(heldOut.SelectMany(c => c), w => Assert.DoesNotContain(w, training));
        var prompts = CaptionTemplates.HeldOutPrompts(names);
        Assert.Equal(Enumerable.Range(0, 10), prompts.Select(p => p.Label));
        Assert.Equal(prompts.Count, prompts.Select(p => p.Prompt).Distinct().Count());
        if (digits) Assert.Equal("the number seven, handwritten", heldOut[7][0]);
    }

    static CaptionTable Table() => new(WordTokenizer.Build(CaptionTemplates.For(Digits).SelectMany(c => c), 16), CaptionTemplates.For(Digits));

    [Fact]
    public void DrawsAreFixedByTheGeneratorAndLeaveNoDrawBehind()
    {
        using var table = Table();
        using var labels = tensor(Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray());
        Tensor Draw(ulong seed, out Tensor next)
        {
            using var g = new Generator(seed);
            var tokens = table.Draw(labels, 0.1, g);
            next = rand([1], generator: g);
            return tokens;
        }
        using var a = Draw(5, out var nextA);
        using var b = Draw(5, out var nextB);
        using var c = Draw(6, out _);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        Assert.True(nextA.allclose(nextB, rtol: 0, atol: 0));
        Assert.False(a.allclose(c, rtol: 0, atol: 0));
        Assert.Equal([64L, 16L], a.shape);
    }

    [Fact]
    public void EachDrawIsATemplateOfItsClassWithSomeWordsUnknown()
    {
        using var table = Table();
        var tokenizer = table.Tokenizer;
        var captions = CaptionTemplates.For(Digits);
        using var labels = tensor(Enumerable.Range(0, 1200).Select(i => (long)(i % 10)).ToArray());
        using var g = new Generator(1);
        using var tokens = table.Draw(labels, 0, g);
        int unknown = 0, words = 0;
        var seen = new HashSet<string>();
        for (int i = 0; i < 1200; i++)
        {
            var ids = tokens[i].data<long>().ToArray();
            var match = captions[i % 10].Select(tokenizer.Encode).Where(c => c.Zip(ids).All(p => p.First == p.Second || p.Second == WordTokenizer.UnknownId && p.First > WordTokenizer.ClsId)).ToList();
            Assert.NotEmpty(match);
            seen.Add(tokenizer.Decode(match[0]));
            unknown += ids.Count(id => id == WordTokenizer.UnknownId);
            words += ids.Count(id => id != WordTokenizer.PadId && id != WordTokenizer.ClsId);
        }
        Assert.Equal(captions.SelectMany(c => c).Count(), seen.Count); // every template of every class was drawn
        Assert.InRange(unknown / (double)words, 0.07, 0.13); // word dropout 0.1
    }

    [Fact]
    public void CaptionDropoutGivesTheEmptyCaption()
    {
        using var table = Table();
        using var labels = tensor(new long[] { 3, 4, 5 });
        using var g = new Generator(2);
        using var tokens = table.Draw(labels, 1.0, g);
        var empty = table.Tokenizer.Encode("");
        for (int i = 0; i < 3; i++) Assert.Equal(empty, tokens[i].data<long>().ToArray());
        using var fixedTokens = table.Fixed(labels);
        Assert.Equal(table.Tokenizer.Encode(CaptionTemplates.For(Digits)[4][0]), fixedTokens[1].data<long>().ToArray());
        Assert.Throws<DiffuseException>(() => table.Draw(tensor(new long[] { 10 }), 0, g));
    }
}
