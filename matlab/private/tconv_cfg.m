function cfg = tconv_cfg(sx, filterSize, numFilters, stride, dilation, groups, cropping)
% TCONV_CFG  The configuration vector tconv_mex reads (see tconv_mex.c, enum
% cfg_index) for an SSCB input of size sx = [H W C N]. MATLAB's first
% dimension is tconv's H, so sizes, strides and crops pass through as they
% are: tconv's TCONV_SSCB layout reads the column-major array in place.
  sx(end+1:4) = 1;
  if ischar(cropping) % 'same'
    same = 1;
    crop = [0 0 0 0];
  else
    same = 0;
    crop = cropping;
  end
  cfg = [sx(4) sx(3) sx(1) sx(2) numFilters filterSize(1) filterSize(2) ...
         stride(1) stride(2) dilation(1) dilation(2) groups same crop];
end
