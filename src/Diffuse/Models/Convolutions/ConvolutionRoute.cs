namespace Diffuse.Models.Convolutions;

/// <summary>How CPU convolutions run (see <see cref="Convolution"/>). CUDA and float64 convolutions never use oneDNN and
/// always run as they are.</summary>
public enum ConvolutionRoute
{
    /// <summary>libtorch's own choice, oneDNN's blocked kernels for float32 and bfloat16: the fastest, and right on
    /// CPUs where the self-check passes.</summary>
    OneDnn,

    /// <summary>oneDNN, with the input and output channels of every convolution whose channel counts are not multiples
    /// of <see cref="Convolution.ChannelBlock"/> padded with zeros up to one (and the padding cut from the output), so
    /// that oneDNN's blocked layouts have no padded block tails to leave unwritten.</summary>
    PaddedChannels,

    /// <summary>oneDNN switched off for the whole process: libtorch's own (slower) convolutions.</summary>
    OneDnnOff,
}
