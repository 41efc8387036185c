using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>DPM-Solver's formulation (diffusers' <c>algorithm_type</c>; Lu et al. 2022a, 2022b).</summary>
public enum AlgorithmType
{
    /// <summary><c>dpmsolver</c>: the noise-prediction solver of DPM-Solver.</summary>
    [JsonStringEnumMemberName("dpmsolver")] Dpmsolver,
    /// <summary><c>dpmsolver++</c>: the data-prediction solver of DPM-Solver++.</summary>
    [JsonStringEnumMemberName("dpmsolver++")] DpmsolverPlusPlus,
    /// <summary><c>sde-dpmsolver</c>: the SDE variant of DPM-Solver.</summary>
    [JsonStringEnumMemberName("sde-dpmsolver")] SdeDpmsolver,
    /// <summary><c>sde-dpmsolver++</c>: the SDE variant of DPM-Solver++.</summary>
    [JsonStringEnumMemberName("sde-dpmsolver++")] SdeDpmsolverPlusPlus,
    /// <summary><c>deis</c>: the exponential integrator of DEIS (Zhang &amp; Chen 2023).</summary>
    [JsonStringEnumMemberName("deis")] Deis,
}

/// <summary>The second-order update of a multistep solver (diffusers' <c>solver_type</c>).</summary>
public enum SolverType
{
    /// <summary><c>midpoint</c> (DPM-Solver).</summary>
    Midpoint,
    /// <summary><c>heun</c> (DPM-Solver).</summary>
    Heun,
    /// <summary><c>bh1</c> (UniPC, B(h) = h).</summary>
    Bh1,
    /// <summary><c>bh2</c> (UniPC, B(h) = e^h - 1).</summary>
    Bh2,
    /// <summary><c>logrho</c> (DEIS: the polynomial extrapolation is in log rho).</summary>
    Logrho,
}

/// <summary>The last sigma of a run (diffusers' <c>final_sigmas_type</c>).</summary>
public enum FinalSigmasType
{
    /// <summary><c>zero</c>: end at sigma 0 (a clean sample).</summary>
    Zero,
    /// <summary><c>sigma_min</c>: end at the smallest training sigma.</summary>
    SigmaMin,
}
