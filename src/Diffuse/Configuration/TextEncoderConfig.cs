using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>
/// The text encoder of a text-conditional U-Net ("text_encoder" of the "network" section of config.json): a small pre-norm transformer
/// (Vaswani et al. 2017, with the pre-LayerNorm of Xiong et al. 2020, arXiv:2002.04745) over the word ids of
/// <c>Text.WordTokenizer</c>, trained from scratch with the denoiser. The vocabulary is the tokenizer's, in id order
/// (special tokens first), so a model folder carries its tokenizer.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TextEncoderConfig
{
    /// <summary>The tokens every vocabulary starts with, in id order: padding, unknown word, the [CLS] summary token.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = ["[PAD]", "[UNK]", "[CLS]"];

    /// <summary>The id of [PAD], which the text encoder masks out.</summary>
    public const int PadId = 0;

    /// <summary>The id of [UNK].</summary>
    public const int UnkId = 1;

    /// <summary>The id of [CLS], the first token of every prompt; its state is the prompt's summary.</summary>
    public const int ClsId = 2;

    /// <summary>The name of the captions file beside an image folder (path, tab, caption per line).</summary>
    public const string CaptionsFile = "captions.tsv";

    /// <summary>The tokenizer's words in id order: [PAD], [UNK], [CLS], then the words of the training captions.</summary>
    public string[] Vocabulary { get; init; } = [.. SpecialTokens];
    /// <summary>Tokens per prompt, the leading [CLS] included; longer prompts are cut.</summary>
    public int MaxLength { get; init; } = 16;
    /// <summary>The transformer's width (the cross-attention keys' and values' input size).</summary>
    public int Width { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;

    /// <summary>
    /// Where the training captions came from: null for captions made from the class names by
    /// <see cref="Text.CaptionTemplates"/>, or the name of the captions file beside the image folder
    /// (<see cref="CaptionsFile"/>), whose captions the run drew per image.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Captions { get; init; }

    /// <summary>True when the model learnt from a captions file rather than from class-name templates.</summary>
    [JsonIgnore] public bool FromCaptionsFile => Captions is not null;

    [JsonIgnore] public int VocabSize => Vocabulary.Length;

    /// <summary>Throws a one-line error for values no encoder can be built from.</summary>
    public void Validate()
    {
        if (Vocabulary is null || Vocabulary.Length < SpecialTokens.Count)
            throw new DiffuseException($"model text_encoder vocabulary must start with the special tokens {string.Join(" ", SpecialTokens)}");
        Limits.AtMost(Vocabulary.Length, Limits.Entries, "the number of model text_encoder vocabulary words");
        if (Vocabulary.Any(w => w is null)) throw new DiffuseException("model text_encoder vocabulary must be a list of words");
        Limits.AtMost(MaxLength, 4_096, "model text_encoder max_length");
        Limits.AtMost(Width, Limits.Width, "model text_encoder width");
        Limits.AtMost(Layers, Limits.Depth, "model text_encoder layers");
        for (int i = 0; i < SpecialTokens.Count; i++)
            if (Vocabulary[i] != SpecialTokens[i])
                throw new DiffuseException($"model text_encoder vocabulary entry {i} must be {SpecialTokens[i]}, got '{Vocabulary[i]}'");
        if (Vocabulary.Distinct(StringComparer.Ordinal).Count() != Vocabulary.Length)
            throw new DiffuseException("model text_encoder vocabulary holds a word twice");
        if (MaxLength < 2) throw new DiffuseException($"model text_encoder max_length must be at least 2 ([CLS] and one word), got {MaxLength}");
        if (Width < 1 || Heads < 1 || Width % Heads != 0)
            throw new DiffuseException($"model text_encoder heads {Heads} must divide its width {Width}");
        if (Captions is not null && Captions != CaptionsFile)
            throw new DiffuseException($"model text_encoder captions must be '{CaptionsFile}' or absent, got '{Captions}'");
        if (Layers < 1) throw new DiffuseException($"model text_encoder layers must be at least 1, got {Layers}");
    }
}
