using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Text;

/// <summary>
/// The tokenized training captions of a text-conditional run, looked up by a key per sample: the class label for captions
/// made from class names (<see cref="CaptionTable"/>), the image's index in its dataset for a captions file
/// (<see cref="ImageCaptionTable"/>).
/// </summary>
internal interface ICaptionTable : IDisposable
{
    WordTokenizer Tokenizer { get; }

    /// <summary>True when the keys are image indices, false when they are class labels.</summary>
    bool KeyedByImage { get; }

    /// <summary>Each key's first caption, [B, L] ids (validation losses).</summary>
    Tensor Fixed(Tensor keys);

    /// <summary>
    /// The training ids [B, L] for <paramref name="keys"/> [B]: a caption each, word dropout, then caption dropout with
    /// probability <paramref name="captionDropout"/>, drawn from <paramref name="generator"/> in that order.
    /// </summary>
    Tensor Draw(Tensor keys, double captionDropout, Generator generator);
}
