using Diffuse.Configuration;
using System.Text;
using System.Text.RegularExpressions;

namespace Diffuse.Text;

/// <summary>
/// A word-level tokenizer built from the training captions: text is lower-cased and split into runs of letters and digits
/// and single punctuation marks ("The digit 7!" is "the", "digit", "7", "!"); each word seen in the captions has an id,
/// any other is [UNK]. A prompt becomes exactly <see cref="MaxLength"/> ids: [CLS], its words (cut after
/// MaxLength - 1), then [PAD]s. The empty prompt is [CLS] alone, the unconditional input of classifier-free guidance.
/// </summary>
public sealed partial class WordTokenizer
{
    public const int PadId = TextEncoderConfig.PadId;
    public const int UnknownId = TextEncoderConfig.UnkId;
    public const int ClsId = TextEncoderConfig.ClsId;

    /// <summary>The special tokens in id order; the words follow them.</summary>
    public static IReadOnlyList<string> SpecialTokens => TextEncoderConfig.SpecialTokens;

    private readonly Dictionary<string, int> ids;

    /// <param name="vocabulary">The words in id order, starting with <see cref="SpecialTokens"/>.</param>
    public WordTokenizer(IReadOnlyList<string> vocabulary, int maxLength)
    {
        if (vocabulary.Count < SpecialTokens.Count || !vocabulary.Take(SpecialTokens.Count).SequenceEqual(SpecialTokens))
            throw new DiffuseException($"a tokenizer vocabulary must start with {string.Join(" ", SpecialTokens)}");
        if (maxLength < 2) throw new DiffuseException($"a tokenizer's max length must be at least 2, got {maxLength}");
        Vocabulary = vocabulary.ToArray();
        MaxLength = maxLength;
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Vocabulary.Count; i++)
            if (!ids.TryAdd(Vocabulary[i], i)) throw new DiffuseException($"the tokenizer vocabulary holds '{Vocabulary[i]}' twice");
    }

    public IReadOnlyList<string> Vocabulary { get; }
    public int MaxLength { get; }

    /// <summary>The tokenizer whose words are those of <paramref name="captions"/>, in ordinal order after the special tokens.</summary>
    public static WordTokenizer Build(IEnumerable<string> captions, int maxLength)
    {
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var caption in captions) words.UnionWith(Split(caption));
        return new WordTokenizer([.. SpecialTokens, .. words.Where(w => !SpecialTokens.Contains(w))], maxLength);
    }

    /// <summary>The lower-cased words and punctuation marks of <paramref name="text"/>.</summary>
    public static IReadOnlyList<string> Split(string text) =>
        WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToArray();

    /// <summary>Exactly <see cref="MaxLength"/> ids: [CLS], the words' ids ([UNK] for unknown words, cut to fit), [PAD]s.</summary>
    public long[] Encode(string text)
    {
        var result = new long[MaxLength];
        result[0] = ClsId;
        var words = Split(text);
        for (int i = 0; i < words.Count && i + 1 < MaxLength; i++)
            result[i + 1] = ids.TryGetValue(words[i], out int id) ? id : UnknownId;
        return result;
    }

    /// <summary>The words of <paramref name="text"/> that are not in the vocabulary (they become [UNK]).</summary>
    public IReadOnlyList<string> UnknownWords(string text) => Split(text).Where(w => !ids.ContainsKey(w)).Distinct().ToArray();

    /// <summary>How many words of <paramref name="text"/> do not fit after [CLS] (they are dropped).</summary>
    public int DroppedWords(string text) => Math.Max(0, Split(text).Count - (MaxLength - 1));

    /// <summary>The words of <paramref name="tokens"/> joined by spaces: [CLS] and [PAD] are left out, [UNK] is written as such.</summary>
    public string Decode(IEnumerable<long> tokens)
    {
        var text = new StringBuilder();
        foreach (long id in tokens)
        {
            if (id is PadId or ClsId) continue;
            if (id < 0 || id >= Vocabulary.Count) throw new DiffuseException($"token id {id} is outside the vocabulary of {Vocabulary.Count}");
            if (text.Length > 0) text.Append(' ');
            text.Append(Vocabulary[(int)id]);
        }
        return text.ToString();
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+|[^\s\p{L}\p{N}]")]
    private static partial Regex WordPattern();
}
