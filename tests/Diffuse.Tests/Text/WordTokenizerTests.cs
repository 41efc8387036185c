using Diffuse.Text;
using Xunit;

namespace Diffuse.Tests.Text;

public class WordTokenizerTests
{
    static WordTokenizer Tokenizer(int maxLength = 8) => WordTokenizer.Build(["a handwritten seven", "the digit 7", "a photo of an ankle boot"], maxLength);

    [Fact]
    public void TheVocabularyIsTheSpecialTokensThenTheCaptionWordsInOrdinalOrder()
    {
        var tokenizer = Tokenizer();
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "7", "a", "an", "ankle", "boot", "digit", "handwritten", "of", "photo", "seven", "the"], tokenizer.Vocabulary);
        Assert.Equal(tokenizer.Vocabulary, WordTokenizer.Build(["the digit 7", "a photo of an ankle boot", "a handwritten seven", "A Handwritten SEVEN"], 8).Vocabulary);
    }

    [Fact]
    public void TextIsLowerCasedAndSplitIntoWordsAndPunctuationMarks()
    {
        Assert.Equal(["the", "number", "seven", ",", "handwritten", "!"], WordTokenizer.Split("The  NUMBER seven, handwritten!"));
        Assert.Equal(["t", "-", "shirt", "/", "top"], WordTokenizer.Split("T-shirt/top"));
        Assert.Equal(["10", "cats"], WordTokenizer.Split("10 cats"));
        Assert.Empty(WordTokenizer.Split("   "));
    }

    [Fact]
    public void EncodingIsClsThenWordsThenPaddingAndDecodingGivesTheWordsBack()
    {
        var tokenizer = Tokenizer();
        var ids = tokenizer.Encode("A handwritten Seven");
        Assert.Equal(8, ids.Length);
        Assert.Equal([WordTokenizer.ClsId, 4, 9, 12, 0, 0, 0, 0], ids);
        Assert.Equal("a handwritten seven", tokenizer.Decode(ids));
        Assert.Equal("the digit 7", tokenizer.Decode(tokenizer.Encode("the digit 7")));
    }

    [Fact]
    public void UnknownWordsBecomeUnk()
    {
        var tokenizer = Tokenizer();
        var ids = tokenizer.Encode("the number seven, handwritten");
        Assert.Equal([WordTokenizer.ClsId, 13, WordTokenizer.UnknownId, 12, WordTokenizer.UnknownId, 9, 0, 0], ids);
        Assert.Equal("the [UNK] seven [UNK] handwritten", tokenizer.Decode(ids));
        Assert.Equal(["number", ","], tokenizer.UnknownWords("the number seven, handwritten, number"));
    }

    [Fact]
    public void TheEmptyPromptIsClsAlone()
    {
        var tokenizer = Tokenizer();
        Assert.Equal([WordTokenizer.ClsId, 0, 0, 0, 0, 0, 0, 0], tokenizer.Encode(""));
        Assert.Equal(tokenizer.Encode(""), tokenizer.Encode("  "));
        Assert.Equal("", tokenizer.Decode(tokenizer.Encode("")));
    }

    [Fact]
    public void LongPromptsAreCutToTheMaximumLength()
    {
        var tokenizer = Tokenizer(maxLength: 4);
        var ids = tokenizer.Encode("a photo of an ankle boot");
        Assert.Equal([WordTokenizer.ClsId, 4, 11, 10], ids);
        Assert.Equal(3, tokenizer.DroppedWords("a photo of an ankle boot"));
        Assert.Equal(0, tokenizer.DroppedWords("a photo of"));
    }

    [Fact]
    public void BadVocabulariesAreRefused()
    {
        Assert.Throws<DiffuseException>(() => new WordTokenizer(["a", "b"], 8));
        Assert.Throws<DiffuseException>(() => new WordTokenizer(["[PAD]", "[UNK]", "[CLS]", "a", "a"], 8));
        Assert.Throws<DiffuseException>(() => new WordTokenizer(["[PAD]", "[UNK]", "[CLS]"], 1));
        Assert.Throws<DiffuseException>(() => Tokenizer().Decode([99]));
    }
}
