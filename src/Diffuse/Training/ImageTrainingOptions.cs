using Diffuse.Configuration;
using Diffuse.Data;

namespace Diffuse.Training;

/// <summary>
/// What <see cref="ImageTraining.Run"/> is asked to do. A fresh run takes its network, noise and
/// training settings from <see cref="Template"/> (the U-Net's channels and size follow the data);
/// a resumed run (<see cref="Resume"/>) takes them from the run folder's config.json and may only
/// change the total step count.
/// </summary>
public sealed record ImageTrainingOptions
{
    /// <summary>mnist, fashion-mnist, or a folder of IDX files or images; ignored on resume (config.json names it).</summary>
    public string Data { get; init; } = "mnist";
    public required string OutDir { get; init; }
    public ModelConfig? Template { get; init; }
    public bool Force { get; init; }
    public bool Resume { get; init; }
    /// <summary>On resume: the new total step count (null keeps config.json's).</summary>
    public int? Steps { get; init; }
    public ImageLoadOptions Load { get; init; } = new();
    /// <summary>Stop (with a checkpoint) once this step is reached, though the run is planned longer; for tests and time-boxed sessions.</summary>
    public int? StopAtStep { get; init; }
    /// <summary>Steps between TensorBoard scalars.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Images in each PNG grid written during training.</summary>
    public int GridImages { get; init; } = 64;
    /// <summary>DDIM steps of the grids written during training.</summary>
    public int GridSteps { get; init; } = 50;
    /// <summary>Validation images scored at each validation (at most).</summary>
    public int ValidationImages { get; init; } = 500;
}
